import Foundation

/// Minimal CSV support (RFC 4180 quoting) for the results files.
public enum CSV {
    /// The fields of one line; quoted fields may contain commas and doubled quotes.
    public static func fields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        var atFieldStart = true
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    var lookahead = iterator
                    if lookahead.next() == "\"" {
                        current.append("\"")
                        iterator = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                fields.append(current)
                current = ""
                atFieldStart = true
            case "\r":
                continue
            default:
                current.append(c)
                atFieldStart = false
            }
        }
        fields.append(current)
        return fields
    }

    /// One record of a CSV text (see ``records(_:)``).
    public struct Record: Sendable {
        /// How a record ends.
        public enum Ending: Sendable {
            /// A line break, `\n` or `\r\n`: the record is complete.
            case lineBreak
            /// The end of the text, without a line break.
            case endOfText
            /// The end of the text, inside a quoted field that is never closed.
            case insideQuotes
        }
        public let fields: [String]
        /// The 1-based line of the text where the record starts.
        public let line: Int
        public let ending: Ending
    }

    /// The records of a CSV text, in order. A record ends at a line break (`\n` or `\r\n`) outside quotes; a
    /// quoted field may hold line breaks, commas and doubled quotes. Blank lines are skipped, and a `\r` outside
    /// quotes is dropped, as by ``fields(_:)``, which reads one record's line the same way.
    public static func records(_ text: String) -> [Record] {
        var text = text
        return text.withUTF8 { bytes in
            var records: [Record] = []
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false, atFieldStart = true, hasContent = false
            var line = 1, recordLine = 1
            var index = 0
            func endField() {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
                            field.append(byte)
                            index += 1
                        } else {
                            quoted = false
                        }
                    } else {
                        if byte == UInt8(ascii: "\n") { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\"") where atFieldStart:
                    quoted = true
                    atFieldStart = false
                    hasContent = true
                case UInt8(ascii: ","):
                    endField()
                    atFieldStart = true
                    hasContent = true
                case UInt8(ascii: "\r"):
                    continue
                case UInt8(ascii: "\n"):
                    if hasContent {
                        endField()
                        records.append(Record(fields: fields, line: recordLine, ending: .lineBreak))
                        fields.removeAll()
                    }
                    (atFieldStart, hasContent) = (true, false)
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                    atFieldStart = false
                    hasContent = true
                }
            }
            if hasContent {
                endField()
                records.append(Record(fields: fields, line: recordLine, ending: quoted ? .insideQuotes : .endOfText))
            }
            return records
        }
    }

    /// A field, quoted when it needs to be.
    public static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

