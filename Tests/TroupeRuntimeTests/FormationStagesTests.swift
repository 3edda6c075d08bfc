import Foundation
import Testing
import TroupeCore
@testable import TroupeRuntime

/// Each stage of formation alone: reading a fact's shape, grounding a model's words, deciding
/// what a fact does to the facts already kept.
@Suite("Formation stages")
struct FormationStagesTests {
    // MARK: Shape

    @Test(arguments: [
        ("The on-call rota lives in the ops wiki under Rotas", "on-call rota"),
        ("Our freeze starts on 3 March", "freeze"),
        ("The payments dashboard password is rotated by the security team", "payments dashboard password"),
        ("I now work for Contoso", "ana"),
        ("My laptop has 16 GB of RAM", "ana laptop"),
        ("we tightened the latency budget to 180 ms", "latency budget"),
        ("Ana moved to Lisbon", "ana"),
        ("The search endpoint's p99 is 420 ms", "search endpoint's p99"),
        ("The edge proxies run OpenSSL 3.0.13", "edge proxies"),
        ("Backups run nightly at 02:00", "backups"),
    ])
    func theSubjectIsTheNounPhraseBeforeTheVerb(sentence: String, subject: String) throws {
        let shape = try #require(FactShape.of(sentence, speaker: "Ana"))
        #expect(shape.subject == subject)
    }

    @Test func aNewValueForTheSameAttributeIsTold() throws {
        func shape(_ text: String) throws -> FactShape { try #require(FactShape.of(text, speaker: "user")) }
        let pairs = [
            ("The build server has 16 GB of RAM", "The build server now has 64 GB of RAM"),
            ("Our freeze starts on 3 March", "Our freeze starts on 17 April"),
            ("The design review is on Tuesday", "the review is now on Friday"),
            ("The latency budget is 200 ms", "we tightened the latency budget to 180 ms"),
            ("Ana lives in Porto", "Ana moved to Lisbon"),
            ("I work at Initech", "I now work for Contoso"),
            ("The weekly ops review happens at 10:30 on Mondays", "The weekly ops review moved to 14:00"),
            ("The SOC 2 audit fieldwork starts on 14 October", "The auditors pushed the fieldwork back to 4 November"),
            ("Our escalation contact is Ruth Adeyemi", "Mateo Silva is our escalation contact from now on"),
            ("The standby allowance is 300 EUR per week", "The standby allowance went up to 350 EUR per week"),
            ("Our minimum TLS version is TLS 1.2", "We raised the minimum TLS version to TLS 1.3"),
            ("The search p99 is 420 ms", "After the query-cache change, the search p99 is down to 310 ms"),
            ("The nightly export takes six hours", "The nightly export now takes nine hours"),
            ("The mobile app's minimum iOS version is iOS 15", "We bumped the minimum iOS version to iOS 16"),
            ("I'm a data analyst at Fabrikam", "I now work at Northwind as a data engineer"),
            ("The pen test is booked for 12 March", "The pen test got pushed to 2 April"),
            ("My daughter Mia is 7 years old", "Mia turned 8 last week"),
            ("Dana Whitfield is our security champion", "Omar Haddad replaced Dana as our security champion"),
            ("Backups run nightly at 02:00", "Backups now run at 03:30"),
            ("We cache dependencies with a 7 day expiry", "We shortened the cache expiry to 3 days"),
            ("Kofi Mensah leads the data platform team", "Ingrid Berg now leads the data platform team"),
        ]
        for (old, new) in pairs {
            let a = try shape(old), b = try shape(new)
            #expect(FactShape.sameAttribute(a, b) && a.value != b.value, "\(old) → \(a); \(new) → \(b)")
            #expect(b.singleValued, "\(new)")
        }
    }

    @Test func differentThingsOrSeveralValuesAreNotOneAttribute() throws {
        func shape(_ text: String) throws -> FactShape { try #require(FactShape.of(text, speaker: "user")) }
        // Two subjects.
        let ana = try shape("Ana's team uses Postgres 15"), ben = try shape("Ben's team uses Postgres 16")
        #expect(!FactShape.sameSubject(ana.subject, ben.subject))
        // One subject, an attribute with several values at once.
        let tea = try shape("I like tea"), coffee = try shape("I like coffee")
        #expect(tea.attribute == coffee.attribute && !tea.singleValued && !coffee.singleValued)
        // The speaker is many names: a change to what they run is not a change to who they are.
        let name = try shape("I'm Marisol Okafor"), platform = try shape("we're on Kubernetes 1.29 now")
        #expect(!FactShape.sameAttribute(name, platform, speaker: "user"))
        // A change names a value of another kind than the attribute's.
        let review = try shape("The ops review happens at 10:30"), length = try shape("The ops review now lasts 45 minutes")
        #expect(!FactShape.sameAttribute(review, length))
        // Different attributes of one subject.
        let rotated = try shape("The password is rotated by the security team"), stored = try shape("The password is stored in the vault")
        #expect(rotated.attribute != stored.attribute)
    }

    @Test func sentencesKeepDecimalsAndReadPlainStatements() {
        let facts = FactReading.sentences("Our freeze starts on 3 March. The API runs Postgres 15.2 now! Is that ok?", speaker: "user")
        #expect(facts.map(\.text) == ["Our freeze starts on 3 March", "The API runs Postgres 15.2 now"])
        #expect(FactReading.sentences("The password is", speaker: "user").isEmpty, "a verb and nothing it says")
        #expect(FactReading.sentences("remember that the staging database is called Orion.", speaker: "user").map(\.text)
            == ["the staging database is called Orion"])
        // A change after "and now" is a statement of its own, about the same subject.
        #expect(FactReading.sentences("I sold the Golf and now drive a Tesla Model 3.", speaker: "user").map(\.text)
            == ["I sold the Golf", "I now drive a Tesla Model 3"])
        #expect(FactReading.sentences("We signed a new lease, it now ends on 30 June 2028.", speaker: "user").map(\.text).last
            == "The new lease now ends on 30 June 2028")
        #expect(FactReading.sentences("I upgraded my laptop, it now has 96 GB of RAM.", speaker: "user").map(\.text).last
            == "My laptop now has 96 GB of RAM")
        // "it" is what the sentence before acted on.
        #expect(FactReading.sentences("We replaced the event bus; it is now NATS JetStream.", speaker: "user").map(\.text).last
            == "The event bus is now NATS JetStream")
    }

    // MARK: Grounding

    @Test func aModelsClaimIsGroundedOnlyWhenAPersonsWordsHoldIt() {
        let said = "remember that the on-call rota lives in the ops wiki under Rotas, and that pages for the payments service go to the payments team first."
        #expect(Grounding.supports(said, "The on-call rota lives in the ops wiki under Rotas"))
        #expect(Grounding.supports(said, "Pages for the payments service go to the payments team first"))
        #expect(!Grounding.supports(said, "The on-call rota is a group that helps people with their finances"))
        #expect(!Grounding.supports(said, "The on-call rota lives in the operations wiki, so they have to be very careful about what they do"))
        // The person's words and a clause the model added: not grounded.
        #expect(!Grounding.supports(said, "The on-call rota lives in the ops wiki under Rotas, so they have to be very careful about what they do"))
        // A value the person did not say is never grounded, however many other words match.
        #expect(!Grounding.supports(said, "The on-call rota lives in the ops wiki under Incidents"))
        #expect(!Grounding.supports("The freeze starts on 3 March", "The freeze starts on 4 March"))
        // The person's words shuffled into another statement (the demo's seshat, on the 135M model).
        #expect(!Grounding.supports(said, "The on-call rota lives in the ops wiki under Rotas, and that page has pages for payments service"))
        #expect(!Grounding.supports("Ana reports to Bo", "Bo reports to Ana"), "the order the person said them")
        #expect(Grounding.supports(said, "The rota lives in the ops wiki"), "words left out, in order")
    }

    // MARK: Decisions

    static func record(_ id: String, _ text: String, saidBy: String, source: Provenance.Source, method: Provenance.Method = .rules) -> MemoryRecord {
        var metadata = Provenance(saidBy: saidBy, conversation: "c", turn: 1, source: source, method: method).metadata
        if let shape = FactShape.of(text, speaker: saidBy) {
            metadata["subject"] = .string(shape.subject)
            metadata["attribute"] = .string(shape.attribute)
            metadata["value"] = .string(shape.value)
            metadata["single_valued"] = .bool(shape.singleValued)
        }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        return MemoryRecord(id: id, owner: "athena", slice: .semantic, content: text, source: saidBy, createdAt: now, metadata: .object(metadata))
    }

    static let person = Provenance(saidBy: "user", conversation: "c", turn: 2, source: .person, method: .rules)
    static let model = Provenance(saidBy: "hestia", conversation: "c", turn: 2, source: .persona, method: .rules)

    @Test func aPersonsNewValueSupersedesAndAModelsIsOnlyDisputed() {
        let stated = Self.record("m-1", "Our freeze starts on 3 March", saidBy: "user", source: .person)
        let update = Fact(text: "Our freeze starts on 17 April", speaker: "user")
        #expect(MemoryFormation.decide(update, provenance: Self.person, candidates: [stated]) == .supersede(stated))
        let claim = Fact(text: "Our freeze starts on 1 May", speaker: "hestia")
        #expect(MemoryFormation.decide(claim, provenance: Self.model, candidates: [stated]) == .dispute(stated))
        // A model's earlier claim gives way to a person's value.
        let earlier = Self.record("m-2", "Our freeze starts on 1 May", saidBy: "hestia", source: .persona)
        #expect(MemoryFormation.decide(update, provenance: Self.person, candidates: [earlier]) == .supersede(earlier))
    }

    @Test func theSameValueStrengthensOnlyFromAnotherPersonAndNeverOnSimilarityAlone() {
        let stated = Self.record("m-1", "The build server has 16 GB of RAM", saidBy: "user", source: .person)
        let again = Fact(text: "the build server has 16 GB of RAM.", speaker: "user")
        #expect(MemoryFormation.decide(again, provenance: Self.person, candidates: [stated]) == .repeated(stated))
        let other = Provenance(saidBy: "ana", conversation: "c", turn: 3, source: .person, method: .rules)
        #expect(MemoryFormation.decide(again, provenance: other, candidates: [stated]) == .strengthen(stated))
        #expect(MemoryFormation.decide(again, provenance: Self.model, candidates: [stated]) == .repeated(stated))
        // Near in wording, another value: a new value, not a repetition.
        let more = Fact(text: "The build server has 64 GB of RAM", speaker: "user")
        #expect(MemoryFormation.decide(more, provenance: Self.person, candidates: [stated]) == .supersede(stated))
        // Near in wording, another subject: a fact of its own.
        let laptop = Fact(text: "The office laptop has 16 GB of RAM", speaker: "user")
        #expect(MemoryFormation.decide(laptop, provenance: Self.person, candidates: [stated]) == .add)
    }

    @Test func aRoleTakenOverOrAPromotionIsANewValueOfTheRole() throws {
        func shape(_ text: String) throws -> FactShape { try #require(FactShape.of(text, speaker: "user")) }
        let lead = try shape("The on-call lead for the payments rota is Priya Natarajan")
        let takenOver = try shape("Lars Eriksen has taken over as on-call lead for the payments rota")
        #expect(takenOver.value == "lars eriksen" && takenOver.isChange)
        #expect(FactShape.sameAttribute(lead, takenOver))
        // A possessive before its noun is not "is": the subject is the whole phrase.
        let possessive = try shape("From today the payments rota's on-call lead is Chen Wei")
        #expect(possessive.value == "chen wei" && FactShape.sameAttribute(takenOver, possessive))
        // A change in plain words replaces the value whose head noun it shares, and no other.
        let role = try shape("I'm a staff engineer on the search team"), diet = try shape("I'm vegetarian")
        let promoted = try shape("I've been promoted to principal engineer")
        #expect(promoted.value == "principal engineer" && promoted.isChange)
        #expect(FactShape.sameAttribute(role, promoted) && !FactShape.sameAttribute(diet, promoted))
    }

    @Test func aSupersededSentencesOtherPhrasesAreCarriedNotLost() throws {
        func carried(_ old: String, _ new: String) throws -> String? {
            FactShape.carried(from: old, speaker: "user", into: new, shape: try #require(FactShape.of(new, speaker: "user")))
        }
        #expect(try carried("The search endpoint's p99 is 420 ms on the m6i.large fleet", "After the query-cache change, the search p99 is down to 310 ms")
            == "on the m6i.large fleet")
        #expect(try carried("I'm a staff engineer on the search team", "I've been promoted to principal engineer") == "on the search team")
        #expect(try carried("The weekly ops review happens at 10:30 on Mondays", "The weekly ops review moved to 14:00") == "on Mondays")
        // The phrase that holds the old value is what is replaced; one the new sentence says again is not carried.
        #expect(try carried("Our freeze starts on 3 March", "Our freeze starts on 17 April") == nil)
        #expect(try carried("Ana lives in Porto", "Ana moved to Lisbon") == nil)
        #expect(try carried("demo day is on 8 May", "Demo day is now on 15 May") == nil, "May the month is no verb")
        #expect(try carried("Backups run nightly at 02:00 to an S3 bucket", "Backups now run at 03:30") == "to an S3 bucket")
        #expect(try carried("The review moved from Tuesday to Thursday", "The review is now on Friday") == nil)
        #expect(try carried("The GC pause target is 50 ms on the JVM services", "We relaxed the GC pause target to 80 ms on the JVM services") == nil)
    }

    @Test func anEarlierTurnFormedLateNeverBringsTheOldValueBack() {
        // Turn 3 said 17 April; turn 2's 3 March, formed after it, changes nothing.
        var later = Self.record("m-1", "Our freeze starts on 17 April", saidBy: "user", source: .person)
        if case .object(var m)? = later.metadata { m["turn"] = .number(3); later.metadata = .object(m) }
        let earlier = Fact(text: "Our freeze starts on 3 March", speaker: "user")
        #expect(MemoryFormation.decide(earlier, provenance: Self.person, candidates: [later]) == .repeated(later))
    }

    @Test func aValueSaidAgainInOtherWordsIsARepetitionNotANewFact() {
        let stated = Self.record("m-1", "The GC pause target is 50 ms", saidBy: "user", source: .person)
        let again = Fact(text: "we want GC pauses under 50 ms", speaker: "user")
        #expect(MemoryFormation.decide(again, provenance: Self.person, candidates: [stated]) == .repeated(stated))
        // Another value, or another thing with the same value: not a repetition.
        let other = Fact(text: "we want GC pauses under 80 ms", speaker: "user")
        #expect(MemoryFormation.decide(other, provenance: Self.person, candidates: [stated]) == .add)
        let timeout = Fact(text: "The API timeout is 50 ms", speaker: "user")
        #expect(MemoryFormation.decide(timeout, provenance: Self.person, candidates: [stated]) == .add)
    }

    @Test func trustFollowsWhoAndHow() {
        func trust(_ source: Provenance.Source, _ method: Provenance.Method) -> Int {
            Provenance(saidBy: "x", conversation: "c", turn: 1, source: source, method: method).trust
        }
        #expect(trust(.person, .verbatim) == Provenance.highestTrust && trust(.person, .rules) == Provenance.highestTrust)
        #expect(trust(.person, .model) < trust(.person, .rules))
        #expect(trust(.import, .imported) < trust(.person, .model))
        #expect(trust(.persona, .rules) < trust(.import, .imported))
        #expect(trust(.persona, .model) < trust(.persona, .rules))
        #expect(Provenance.trust(of: nil) == Provenance.highestTrust, "an operator's write")
        // Written before `by` and `method`: read by who said it.
        let old: JSONValue = .object(["said_by": .string("hestia"), "conversation": .string("c"), "turn": .number(1), "basis": .string("stated")])
        #expect(Provenance(old)?.source == .persona)
    }
}
