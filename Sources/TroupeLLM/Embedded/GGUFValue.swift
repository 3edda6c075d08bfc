/// One metadata value of a GGUF file: the 12 scalar types and arrays (of any of them, arrays too).
enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// The value as an integer, when it is one of the integer types (and fits).
    var integer: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a floating-point number, when it is a float or an integer.
    var number: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: integer.map(Double.init)
        }
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var array: [GGUFValue]? { if case .array(let a) = self { a } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
}

/// The GGML tensor types this reader supports (GGML's numbers).
enum GGMLType: UInt32, Sendable {
    case f32 = 0, f16 = 1, q4_1 = 3, q8_0 = 8

    /// Values per block, and bytes per block.
    var block: (values: Int, bytes: Int) {
        switch self {
        case .f32: (1, 4)
        case .f16: (1, 2)
        case .q4_1: (32, 20)
        case .q8_0: (32, 34)
        }
    }

    /// GGML's names for every type number, for messages about files this reader cannot use.
    static func name(of raw: UInt32) -> String {
        let names = [
            "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
            "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16",
            "I32", "I64", "F64", "IQ1_M", "BF16",
        ]
        return raw < names.count ? names[Int(raw)] : "type \(raw)"
    }
}

/// One tensor of a GGUF file: its dimensions (GGML order: `dimensions[0]` is the length of a row)
/// and where its data lies in the file.
struct GGUFTensor: Sendable {
    var name: String
    var type: GGMLType
    var dimensions: [Int]
    /// From the start of the file.
    var offset: Int
    var byteCount: Int

    /// Values per row, and rows (every dimension past the first).
    var columns: Int { dimensions[0] }
    var rows: Int { dimensions.dropFirst().reduce(1, *) }
}
