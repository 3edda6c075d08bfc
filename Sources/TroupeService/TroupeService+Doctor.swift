import TroupeRuntime

extension TroupeService {
    /// Checks the set-up and explains what is missing (`troupe doctor`): the config and persona
    /// files that `configFlag` and `homeFlag` find, the store, Redis, BLAS, the models.
    ///
    /// A static method: unlike every other operation it must work where no runtime opens (a
    /// broken persona file, a missing home), so it needs no service. It reads the whole home,
    /// so only the operator may.
    public static func doctor(configFlag: String?, homeFlag: String?, _ context: RequestContext) async throws -> DoctorReport {
        try context.checkWholeHome("run the doctor's checks")
        return await Doctor.run(configFlag: configFlag, homeFlag: homeFlag)
    }
}
