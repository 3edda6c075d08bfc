// Starts the test process's pool watch (Tests/TroupeStoreConformance/PoolWatch.swift) when
// TROUPE_POOL_WATCH names a report file. Nothing to call: a constructor does it.
#pragma once
