import Foundation

/// Learning curves of a results CSV as an SVG figure (no dependencies): one panel per model size (ordered by
/// non-embedding parameters), one line per variant (the mean over seeds at each evaluation), with a band from the
/// lowest to the highest seed. The paper's Figure 2 is generation accuracy against training step, one panel per
/// model; `cfg-run plot` draws that from any sweep's CSV, and any other numeric column against step, tokens or chars.
public struct ResultsPlot {
    public struct Point { public let x: Double, y: Double }
    /// One line: a variant in a panel, with the seeds' range at each x.
    public struct Series {
        public let variant: String
        public let mean: [Point]
        public let low: [Point]
        public let high: [Point]
        public let seeds: Int
    }
    public struct Panel {
        public let size: String
        public let nonEmbeddingParameters: Int
        public let series: [Series]
    }

    public let x: String
    public let y: String
    public let panels: [Panel]

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Reads the curves of `y` against `x` from CSV text (`source` names it in errors).
    public init(csv text: String, x: String = "step", y: String = "gen_accuracy", source: String = "results") throws(Failure) {
        try self.init(files: [(text, source)], x: x, y: y)
    }

    /// Reads the curves of `y` against `x` from several CSV texts (e.g. one sweep per model width), each with its
    /// header, as one table.
    public init(files: [(text: String, source: String)], x: String = "step", y: String = "gen_accuracy") throws(Failure) {
        // (size, variant) -> x -> values over seeds; orders of first appearance.
        var values: [String: [String: [Double: [Double]]]] = [:]
        var sizeOrder: [String] = [], variantOrder: [String: [String]] = [:], sizeParams: [String: Int] = [:]
        var seeds: [String: [String: Set<String>]] = [:]
        for (text, source) in files {
            var records = CSV.records(text)
            guard !records.isEmpty else { throw Failure(description: "\(source): empty file") }
            let header = records.removeFirst().fields
            func column(_ name: String) throws(Failure) -> Int {
                guard let i = header.firstIndex(of: name) else {
                    throw Failure(description: "\(source): no column '\(name)' (columns: \(header.joined(separator: ", ")))")
                }
                return i
            }
            let xi = try column(x), yi = try column(y), size = try column("size"), variant = try column("variant")
            let seed = try column("seed"), params = header.firstIndex(of: "nonembed_params")
            for record in records {
                let f = record.fields
                guard f.count == header.count else {
                    throw Failure(description: "\(source):\(record.line): \(f.count) fields, the header has \(header.count)")
                }
                guard let xv = ResultsTable.number(f[xi]), let yv = ResultsTable.number(f[yi]) else {
                    throw Failure(description: "\(source):\(record.line): '\(f[xi])' or '\(f[yi])' is not a number")
                }
                guard xv.isFinite, yv.isFinite else { continue }
                let s = f[size], v = f[variant]
                if values[s] == nil { sizeOrder.append(s); values[s] = [:] }
                if values[s]![v] == nil { variantOrder[s, default: []].append(v); values[s]![v] = [:] }
                values[s]![v]![xv, default: []].append(yv)
                seeds[s, default: [:]][v, default: []].insert(f[seed])
                if let params, let p = Int(f[params]) { sizeParams[s] = max(sizeParams[s] ?? 0, p) }
            }
        }
        guard !sizeOrder.isEmpty else {
            throw Failure(description: "\(files.map(\.source).joined(separator: ", ")): no finite values of '\(y)' to plot")
        }
        self.x = x
        self.y = y
        panels = sizeOrder.sorted { (sizeParams[$0] ?? 0, $0) < (sizeParams[$1] ?? 0, $1) }.map { s in
            Panel(size: s, nonEmbeddingParameters: sizeParams[s] ?? 0, series: variantOrder[s]!.map { v in
                let points = values[s]![v]!.sorted { $0.key < $1.key }
                return Series(variant: v,
                              mean: points.map { Point(x: $0.key, y: $0.value.reduce(0, +) / Double($0.value.count)) },
                              low: points.map { Point(x: $0.key, y: $0.value.min()!) },
                              high: points.map { Point(x: $0.key, y: $0.value.max()!) },
                              seeds: seeds[s]![v]!.count)
            })
        }
    }

    /// Colours of the variants, in order of first appearance across panels (colour-blind-safe palette).
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// The figure, `columns` panels per row.
    public func svg(title: String? = nil, columns: Int = 3) -> String {
        var variants: [String] = []
        for panel in panels { for series in panel.series where !variants.contains(series.variant) { variants.append(series.variant) } }
        func colour(_ variant: String) -> String { ResultsPlot.palette[variants.firstIndex(of: variant)! % ResultsPlot.palette.count] }
        let columns = max(1, min(columns, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let panelWidth = 320.0, panelHeight = 230.0, margin = (left: 56.0, right: 14.0, top: 30.0, bottom: 42.0)
        let legendHeight = 22.0 * Double((variants.count + 3) / 4)
        let top = title == nil ? 10.0 : 34.0
        let width = Double(columns) * panelWidth, height = top + Double(rows) * panelHeight + legendHeight + 10
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>

        """
        if let title { out += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n" }
        // One y range for every panel, so that panels compare at a glance; x per panel.
        let allY = panels.flatMap { $0.series.flatMap { $0.low.map(\.y) + $0.high.map(\.y) } }
        let (yLow, yHigh) = ResultsPlot.niceRange(allY.min()!, allY.max()!, clampToUnit: y.hasPrefix("gen_accuracy"))
        for (index, panel) in panels.enumerated() {
            let ox = Double(index % columns) * panelWidth, oy = top + Double(index / columns) * panelHeight
            let plotWidth = panelWidth - margin.left - margin.right, plotHeight = panelHeight - margin.top - margin.bottom
            let xs = panel.series.flatMap { $0.mean.map(\.x) }
            let (xLow, xHigh) = ResultsPlot.niceRange(min(0, xs.min()!), xs.max()!, clampToUnit: false)
            func px(_ v: Double) -> Double { ox + margin.left + (v - xLow) / max(xHigh - xLow, 1e-300) * plotWidth }
            func py(_ v: Double) -> Double { oy + margin.top + (1 - (v - yLow) / max(yHigh - yLow, 1e-300)) * plotHeight }
            out += "<g class=\"panel\" data-size=\"\(escape(panel.size))\">\n"
            out += "<text x=\"\(f(ox + margin.left + plotWidth / 2))\" y=\"\(f(oy + 18))\" text-anchor=\"middle\" font-size=\"12\">\(escape(panel.size))\(panel.nonEmbeddingParameters > 0 ? " (\(panel.nonEmbeddingParameters) non-embedding parameters)" : "")</text>\n"
            // Axes, ticks and grid.
            out += "<g class=\"axes\" stroke=\"#444\" fill=\"none\">"
            out += "<path d=\"M\(f(px(xLow))),\(f(py(yHigh))) V\(f(py(yLow))) H\(f(px(xHigh)))\"/></g>\n"
            for tick in ResultsPlot.ticks(yLow, yHigh) {
                out += "<line x1=\"\(f(px(xLow)))\" x2=\"\(f(px(xHigh)))\" y1=\"\(f(py(tick)))\" y2=\"\(f(py(tick)))\" stroke=\"#e4e4e4\"/>"
                out += "<text x=\"\(f(px(xLow) - 4))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(ResultsPlot.label(tick))</text>\n"
            }
            for tick in ResultsPlot.ticks(xLow, xHigh) {
                out += "<line x1=\"\(f(px(tick)))\" x2=\"\(f(px(tick)))\" y1=\"\(f(py(yLow)))\" y2=\"\(f(py(yLow) + 4))\" stroke=\"#444\"/>"
                out += "<text x=\"\(f(px(tick)))\" y=\"\(f(py(yLow) + 16))\" text-anchor=\"middle\">\(ResultsPlot.label(tick))</text>\n"
            }
            out += "<text x=\"\(f(ox + margin.left + plotWidth / 2))\" y=\"\(f(oy + panelHeight - 6))\" text-anchor=\"middle\">\(escape(x))</text>\n"
            out += "<text transform=\"translate(\(f(ox + 13)),\(f(oy + margin.top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(y))</text>\n"
            for series in panel.series {
                let c = colour(series.variant)
                if series.seeds > 1 {
                    let upper = series.high.map { "\(f(px($0.x))),\(f(py($0.y)))" }
                    let lower = series.low.reversed().map { "\(f(px($0.x))),\(f(py($0.y)))" }
                    out += "<path class=\"band\" data-variant=\"\(escape(series.variant))\" d=\"M\((upper + lower).joined(separator: " L"))Z\" fill=\"\(c)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
                }
                let line = series.mean.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " L")
                out += "<path class=\"line\" data-variant=\"\(escape(series.variant))\" d=\"M\(line)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.6\"/>\n"
            }
            out += "</g>\n"
        }
        // Legend.
        let legendTop = top + Double(rows) * panelHeight
        for (i, variant) in variants.enumerated() {
            let lx = 20 + Double(i % 4) * (width - 40) / 4, ly = legendTop + 14 + 22 * Double(i / 4)
            out += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 22))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(colour(variant))\" stroke-width=\"2.5\"/>"
            out += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly))\">\(escape(variant))</text>\n"
        }
        out += "<text x=\"\(f(width - 8))\" y=\"\(f(height - 4))\" text-anchor=\"end\" fill=\"#777\" font-size=\"9\">lines: mean over seeds; bands: lowest to highest seed</text>\n"
        out += "</svg>\n"
        return out
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A range with round ends covering `low...high` (0...1 for accuracies).
    static func niceRange(_ low: Double, _ high: Double, clampToUnit: Bool) -> (Double, Double) {
        if clampToUnit { return (0, 1) }
        if high <= low { return (low - 1, high + 1) }
        let step = niceStep((high - low) / 5)
        return ((low / step).rounded(.down) * step, (high / step).rounded(.up) * step)
    }

    static func niceStep(_ raw: Double) -> Double {
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }

    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        let step = niceStep((high - low) / 5)
        var ticks: [Double] = []
        var t = (low / step).rounded(.up) * step
        while t <= high + step * 1e-9 { ticks.append(t); t += step }
        return ticks
    }

    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e6 { return String(format: "%gM", v / 1e6) }
        if a >= 1e4 { return String(format: "%gk", v / 1e3) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }
}
