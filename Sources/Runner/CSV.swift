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

    /// A field, quoted when it needs to be.
    public static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

#if canImport(Foundation)
import Foundation
#endif
