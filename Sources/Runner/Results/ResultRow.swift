import Foundation

/// One row of the results CSV: one evaluation point of one run.
public struct ResultRow: Sendable {
    public var grammar = "", variant = "", size = ""
    public var layers = 0, dModel = 0, heads = 0, params = 0, nonEmbeddingParams = 0
    public var seed: UInt64 = 0
    public var step = 0, tokens = 0, chars = 0
    public var trainLoss = Double.nan, valLoss = Double.nan, excess = Double.nan, trueEntropy = Double.nan
    public var genAccuracy = Double.nan, genLow = Double.nan, genHigh = Double.nan
    public var genSamples = 0
    public var learningRate = Double.nan
    public var wallSeconds = 0.0
    public var status = "ok"

    public init() {}

    /// One column of the CSV: its name, how a row writes it, and how a field is read back (false: not readable).
    /// The header, `csvLine` and `init(fields:columns:)` all come from this one list, so they cannot disagree.
    struct Column {
        let name: String
        let write: (ResultRow) -> String
        let read: (inout ResultRow, String) -> Bool
        /// Whether the field is a number (readers check those).
        let numeric: Bool
    }

    static let schema: [Column] = [
        text("grammar", \.grammar), text("variant", \.variant), text("size", \.size),
        integer("layers", \.layers), integer("d_model", \.dModel), integer("heads", \.heads),
        integer("params", \.params), integer("nonembed_params", \.nonEmbeddingParams),
        Column(name: "seed", write: { "\($0.seed)" }, read: { row, field in
            guard let value = UInt64(field) else { return false }
            row.seed = value
            return true
        }, numeric: true),
        integer("step", \.step), integer("tokens", \.tokens), integer("chars", \.chars),
        real("train_loss_per_char", \.trainLoss), real("val_loss_per_char", \.valLoss),
        real("excess_per_char", \.excess), real("true_entropy_per_char", \.trueEntropy),
        real("gen_accuracy", \.genAccuracy, digits: 4), real("gen_accuracy_lo", \.genLow, digits: 4),
        real("gen_accuracy_hi", \.genHigh, digits: 4), integer("gen_samples", \.genSamples),
        real("lr", \.learningRate, format: "%.6g"), real("wall_s", \.wallSeconds, digits: 2),
        Column(name: "status", write: { $0.status }, read: { row, field in
            guard ResultRow.statuses.contains(field) else { return false }
            row.status = field
            return true
        }, numeric: false),
    ]

    /// The values of the `status` column.
    public static let statuses = ["ok", "diverged"]

    /// Names of the columns, in order.
    public static let columnNames = schema.map(\.name)
    /// Names of the numeric columns (the metrics `cfg-run assert` can compare, and more).
    public static let numericColumnNames = schema.filter(\.numeric).map(\.name)
    public static let header = columnNames.joined(separator: ",")

    public var csvLine: String { ResultRow.schema.map { $0.write(self) }.joined(separator: ",") }

    /// The generation columns (gen_accuracy, gen_accuracy_lo, gen_accuracy_hi, gen_samples) as a row writes them,
    /// for other tables that report generation accuracy the same way (the k-gram calibration).
    public var generationColumns: String {
        ["gen_accuracy", "gen_accuracy_lo", "gen_accuracy_hi", "gen_samples"]
            .map { name in ResultRow.schema.first { $0.name == name }!.write(self) }.joined(separator: ",")
    }

    public struct ReadError: Error, CustomStringConvertible { public let description: String }

    /// Reads a row from its fields, given the column index of every schema column (from a header read by name).
    /// Fails naming the first column whose field is not a valid value.
    init(fields: [String], columns: [Int]) throws(ReadError) {
        self.init()
        for (column, index) in zip(ResultRow.schema, columns) {
            guard column.read(&self, fields[index]) else {
                throw ReadError(description: "column \(column.name): '\(fields[index].prefix(40))' is not a valid value")
            }
        }
    }

    /// The rows of a results CSV text as cfg-run writes it (a header naming every schema column, any order).
    /// Fails naming the line and what is wrong.
    public static func rows(csv text: String, source: String) throws(ReadError) -> [ResultRow] {
        var records = CSV.records(text)
        guard !records.isEmpty else { throw ReadError(description: "\(source): empty file") }
        let header = records.removeFirst().fields
        let columns: [Int]
        do { columns = try columnIndices(header: header) } catch { throw ReadError(description: "\(source): \(error.description)") }
        var rows: [ResultRow] = []
        for record in records {
            guard record.fields.count == header.count else {
                throw ReadError(description: "\(source):\(record.line): \(record.fields.count) fields, the header has \(header.count)")
            }
            do { rows.append(try ResultRow(fields: record.fields, columns: columns)) }
            catch { throw ReadError(description: "\(source):\(record.line): \(error.description)") }
        }
        return rows
    }

    /// Where each schema column is in `header`; fails naming the columns that are missing.
    static func columnIndices(header: [String]) throws(ReadError) -> [Int] {
        var position: [String: Int] = [:]
        for (i, name) in header.enumerated() where position[name] == nil { position[name] = i }
        let missing = columnNames.filter { position[$0] == nil }
        guard missing.isEmpty else {
            throw ReadError(description: "the header lacks the column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))")
        }
        return columnNames.map { position[$0]! }
    }

    // MARK: Column kinds

    private static func text(_ name: String, _ key: WritableKeyPath<ResultRow, String>) -> Column {
        Column(name: name, write: { CSV.quote($0[keyPath: key]) }, read: { row, field in
            row[keyPath: key] = field
            return true
        }, numeric: false)
    }

    private static func integer(_ name: String, _ key: WritableKeyPath<ResultRow, Int>) -> Column {
        Column(name: name, write: { "\($0[keyPath: key])" }, read: { row, field in
            guard let value = Int(field) else { return false }
            row[keyPath: key] = value
            return true
        }, numeric: true)
    }

    private static func real(_ name: String, _ key: WritableKeyPath<ResultRow, Double>, digits: Int = 6) -> Column {
        real(name, key, format: "%.\(digits)f")
    }

    private static func real(_ name: String, _ key: WritableKeyPath<ResultRow, Double>, format: String) -> Column {
        Column(name: name, write: { row in
            let x = row[keyPath: key]
            return x.isFinite ? String(format: format, x) : (x.isNaN ? "NaN" : (x > 0 ? "Inf" : "-Inf"))
        }, read: { row, field in
            guard let value = ResultRow.number(field) else { return false }
            row[keyPath: key] = value
            return true
        }, numeric: true)
    }

    /// A number as the CSV writes it (including NaN, Inf and -Inf).
    static func number(_ field: String) -> Double? {
        switch field {
        case "NaN": return .nan
        case "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard let value = Double(field), value.isFinite else { return nil }
            return value
        }
    }
}
