import Foundation

/// Learning curves of a results CSV as an SVG figure (no dependencies): one panel per model size (ordered by
/// non-embedding parameters), one line per variant with a point per evaluation step (the mean over the seeds
/// evaluated at that step), with a band from the lowest to the highest seed. The paper's Figure 2 is generation
/// accuracy against training step, one panel per model; `cfg-run plot` draws that from any sweep's CSV, and any
/// other numeric column against step, tokens or chars.
public struct ResultsPlot {
    public struct Point { public let x: Double, y: Double }
    /// One line: a variant in a panel, a point per evaluation step. At each step `mean` is the mean over the seeds
    /// of both x and y (seeds differ slightly in tokens and chars at one step), `low` and `high` the lowest and
    /// highest seed's y at that mean x.
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
    /// header, as one table. The rows of a size and variant are grouped by their `step`: the seeds' rows at one
    /// step are one point. Rows whose step, x or y is NaN or infinite (a diverged run) are left out.
    public init(files: [(text: String, source: String)], x: String = "step", y: String = "gen_accuracy") throws(Failure) {
        // size -> variant -> step -> the seeds' x and y values there; orders of first appearance.
        var values: [String: [String: [Double: (xs: [Double], ys: [Double])]]] = [:]
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
            let xi = try column(x), yi = try column(y), stepi = try column("step")
            let size = try column("size"), variant = try column("variant"), seed = try column("seed")
            let params = header.firstIndex(of: "nonembed_params")
            for record in records {
                let f = record.fields
                guard f.count == header.count else {
                    throw Failure(description: "\(source):\(record.line): \(f.count) fields, the header has \(header.count)")
                }
                func number(_ i: Int) throws(Failure) -> Double {
                    guard let value = ResultsTable.number(f[i]) else {
                        throw Failure(description: "\(source):\(record.line): column '\(header[i])': '\(f[i].prefix(40))' is not a number")
                    }
                    return value
                }
                let step = try number(stepi), xv = try number(xi), yv = try number(yi)
                guard step.isFinite, xv.isFinite, yv.isFinite else { continue }
                let s = f[size], v = f[variant]
                if values[s] == nil { sizeOrder.append(s); values[s] = [:] }
                if values[s]![v] == nil { variantOrder[s, default: []].append(v); values[s]![v] = [:] }
                values[s]![v]![step, default: ([], [])].xs.append(xv)
                values[s]![v]![step]!.ys.append(yv)
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
                let steps = values[s]![v]!.sorted { $0.key < $1.key }.map(\.value)
                let xs = steps.map { ResultsPlot.mean($0.xs) }
                return Series(variant: v,
                              mean: zip(xs, steps).map { Point(x: $0, y: ResultsPlot.mean($1.ys)) },
                              low: zip(xs, steps).map { Point(x: $0, y: $1.ys.min()!) },
                              high: zip(xs, steps).map { Point(x: $0, y: $1.ys.max()!) },
                              seeds: seeds[s]![v]!.count)
            })
        }
    }

    /// The mean of finite values, finite too (a sum of values near the largest Double would overflow).
    static func mean(_ values: [Double]) -> Double {
        let count = Double(values.count), sum = values.reduce(0, +)
        return sum.isFinite ? sum / count : values.reduce(0) { $0 + $1 / count }
    }

    /// Colours of the variants, in order of first appearance across panels (colour-blind-safe palette).
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// The figure, `columns` panels per row. Text is placed by its estimated width (``textWidth(_:fontSize:)``) so
    /// that none overlaps or leaves the figure: titles shrink, wrap or are shortened, the legend takes as many rows
    /// as the figure's width needs, crowded tick labels are thinned out.
    public func svg(title: String? = nil, columns: Int = 3) -> String {
        var variants: [String] = []
        for panel in panels { for series in panel.series where !variants.contains(series.variant) { variants.append(series.variant) } }
        func colour(_ variant: String) -> String { ResultsPlot.palette[variants.firstIndex(of: variant)! % ResultsPlot.palette.count] }
        let columns = max(1, min(columns, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let panelWidth = 320.0, panelHeight = 230.0
        let width = Double(columns) * panelWidth
        let titleText = title.map { ResultsPlot.fit($0, width: width - 16, fontSize: 15, minimumFontSize: 10, maximumLines: 3) }
        let titleLineHeight = (titleText?.fontSize ?? 0) * 1.25
        let top = titleText.map { 20 + $0.fontSize + Double($0.lines.count - 1) * titleLineHeight } ?? 10

        // The legend: a grid of entries as wide as the widest, as many to a row as fit in the figure.
        let legendFont = 11.0, swatch = 28.0, gap = 18.0
        let legendLabels = variants.map { ResultsPlot.fit($0, width: width - 40 - swatch, fontSize: legendFont, minimumFontSize: legendFont).lines[0] }
        let legendCell = swatch + (legendLabels.map { ResultsPlot.textWidth($0, fontSize: legendFont) }.max() ?? 0) + gap
        let legendColumns = max(1, Int((width - 40 + gap) / legendCell))
        let legendRows = (variants.count + legendColumns - 1) / legendColumns
        let legendTop = top + Double(rows) * panelHeight
        let footnoteY = legendTop + 22 * Double(legendRows) + 6
        let height = footnoteY + 4

        var out = SVGText.opening(width: width, height: height, title: titleText)
        // One y range for every panel, so that panels compare at a glance; x per panel.
        let allY = panels.flatMap { $0.series.flatMap { $0.low.map(\.y) + $0.high.map(\.y) } }
        let yAxis = Axis(covering: allY.min()!, allY.max()!, unitInterval: y.hasPrefix("gen_accuracy"))
        // Room at the left for the widest y label, and for the rotated y title left of it.
        let yLabelWidth = yAxis.labels.map { ResultsPlot.textWidth($0, fontSize: 11) }.max() ?? 0
        let marginLeft = min(panelWidth / 2, max(56, yLabelWidth + 22)), marginTop = 30.0, marginBottom = 42.0
        let plotHeight = panelHeight - marginTop - marginBottom
        for (index, panel) in panels.enumerated() {
            let ox = Double(index % columns) * panelWidth, oy = top + Double(index / columns) * panelHeight
            let xs = panel.series.flatMap { $0.mean.map(\.x) }
            // x from 0 (or below) to the last evaluation: no empty stretch after the data up to a round number.
            let xAxis = Axis(covering: min(0, xs.min()!), xs.max()!, unitInterval: false, roundedEnds: false)
            // Room at the right for half the last x label, centred on its tick.
            let marginRight = max(14, ResultsPlot.textWidth(xAxis.labels.last ?? "", fontSize: 11) / 2 + 4)
            let plotWidth = panelWidth - marginLeft - marginRight
            func px(_ v: Double) -> Double { ox + marginLeft + xAxis.fraction(v) * plotWidth }
            func py(_ v: Double) -> Double { oy + marginTop + (1 - yAxis.fraction(v)) * plotHeight }
            func point(_ p: Point) -> String { "\(f(px(p.x))),\(f(py(p.y)))" }
            out += "<g class=\"panel\" data-size=\"\(escape(panel.size))\">\n"
            out += panelTitle(panel, centre: ox + marginLeft + plotWidth / 2, left: ox + 4, right: ox + panelWidth - 4, y: oy + 18)
            // Axes, ticks and grid.
            out += "<g class=\"axes\" stroke=\"#444\" fill=\"none\">"
            out += "<path d=\"M\(f(px(xAxis.low))),\(f(py(yAxis.high))) V\(f(py(yAxis.low))) H\(f(px(xAxis.high)))\"/></g>\n"
            for (tick, label) in zip(yAxis.ticks, yAxis.labels) {
                out += "<line x1=\"\(f(px(xAxis.low)))\" x2=\"\(f(px(xAxis.high)))\" y1=\"\(f(py(tick)))\" y2=\"\(f(py(tick)))\" stroke=\"#e4e4e4\"/>"
                out += "<text class=\"y-tick\" x=\"\(f(px(xAxis.low) - 4))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(escape(label))</text>\n"
            }
            // Every tick gets a mark; labels that would touch their neighbours are thinned to every k-th.
            let spacing = xAxis.ticks.count > 1 ? (px(xAxis.ticks[1]) - px(xAxis.ticks[0])) : plotWidth
            let widest = xAxis.labels.map { ResultsPlot.textWidth($0, fontSize: 11) }.max() ?? 0
            let every = max(1, Int(((widest + 6) / max(spacing, 1)).rounded(.up)))
            for (i, (tick, label)) in zip(xAxis.ticks, xAxis.labels).enumerated() {
                out += "<line x1=\"\(f(px(tick)))\" x2=\"\(f(px(tick)))\" y1=\"\(f(py(yAxis.low)))\" y2=\"\(f(py(yAxis.low) + 4))\" stroke=\"#444\"/>"
                if i % every == 0 {
                    out += "<text class=\"x-tick\" x=\"\(f(px(tick)))\" y=\"\(f(py(yAxis.low) + 16))\" text-anchor=\"middle\">\(escape(label))</text>"
                }
                out += "\n"
            }
            let xTitle = ResultsPlot.fit(x, width: plotWidth, fontSize: 11, minimumFontSize: 8)
            out += "<text x=\"\(f(ox + marginLeft + plotWidth / 2))\" y=\"\(f(oy + panelHeight - 6))\" text-anchor=\"middle\"\(fontSize(xTitle, 11))>\(escape(xTitle.lines[0]))</text>\n"
            let yTitle = ResultsPlot.fit(y, width: plotHeight, fontSize: 11, minimumFontSize: 8)
            out += "<text transform=\"translate(\(f(ox + 13)),\(f(oy + marginTop + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\"\(fontSize(yTitle, 11))>\(escape(yTitle.lines[0]))</text>\n"
            for series in panel.series {
                let c = colour(series.variant), variant = escape(series.variant)
                if series.seeds > 1 {
                    if series.mean.count == 1 {
                        // A band of one point has no area: the seeds' range as a bar.
                        out += "<path class=\"band\" data-variant=\"\(variant)\" d=\"M\(point(series.high[0])) L\(point(series.low[0]))\" fill=\"none\" stroke=\"\(c)\" stroke-opacity=\"0.35\" stroke-width=\"6\"/>\n"
                    } else {
                        let edges = series.high.map(point) + series.low.reversed().map(point)
                        out += "<path class=\"band\" data-variant=\"\(variant)\" d=\"M\(edges.joined(separator: " L"))Z\" fill=\"\(c)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
                    }
                }
                out += "<path class=\"line\" data-variant=\"\(variant)\" d=\"M\(series.mean.map(point).joined(separator: " L"))\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.6\"/>\n"
                if series.mean.count == 1 {
                    // A line of one point draws nothing: a marker shows it.
                    out += "<circle class=\"marker\" data-variant=\"\(variant)\" cx=\"\(f(px(series.mean[0].x)))\" cy=\"\(f(py(series.mean[0].y)))\" r=\"3.5\" fill=\"\(c)\"/>\n"
                }
            }
            out += "</g>\n"
        }
        out += "<g class=\"legend\">\n"
        for (i, (variant, label)) in zip(variants, legendLabels).enumerated() {
            let lx = 20 + Double(i % legendColumns) * legendCell, ly = legendTop + 14 + 22 * Double(i / legendColumns)
            out += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 22))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(colour(variant))\" stroke-width=\"2.5\"/>"
            out += "<text x=\"\(f(lx + swatch))\" y=\"\(f(ly))\">\(escape(label))</text>\n"
        }
        out += "</g>\n"
        let footnote = ResultsPlot.fit("lines: mean over seeds; bands: lowest to highest seed", width: width - 16, fontSize: 9, minimumFontSize: 7)
        out += "<text x=\"\(f(width - 8))\" y=\"\(f(footnoteY))\" text-anchor=\"end\" fill=\"#777\" font-size=\"\(f(footnote.fontSize))\">\(escape(footnote.lines[0]))</text>\n"
        out += "</svg>\n"
        return out
    }

    /// A panel's title, its size and parameter count: shortened, then shrunk, until it fits between `left` and
    /// `right`; centred on `centre` where it fits there, else moved in just enough.
    private func panelTitle(_ panel: Panel, centre: Double, left: Double, right: Double, y: Double) -> String {
        let n = panel.nonEmbeddingParameters
        let count = SVGText.grouped(n)
        let candidates = n > 0 ? ["\(panel.size) (\(count) non-embedding parameters)", "\(panel.size) (\(count) non-emb. params)"] : [panel.size]
        let fitted = candidates.lazy.map { ResultsPlot.fit($0, width: right - left, fontSize: 12, minimumFontSize: 12) }.first { $0.whole }
            ?? ResultsPlot.fit(candidates.last!, width: right - left, fontSize: 12, minimumFontSize: 8)
        let half = ResultsPlot.textWidth(fitted.lines[0], fontSize: fitted.fontSize) / 2
        let x = max(left + half, min(centre, right - half))
        return "<text class=\"panel-title\" x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"middle\" font-size=\"\(f(fitted.fontSize))\">\(escape(fitted.lines[0]))</text>\n"
    }

    /// A font-size attribute where fitting changed the font size from `standard`.
    private func fontSize(_ fitted: (lines: [String], fontSize: Double, whole: Bool), _ standard: Double) -> String {
        fitted.fontSize == standard ? "" : " font-size=\"\(f(fitted.fontSize))\""
    }

    private func f(_ v: Double) -> String { SVGText.number(v) }

    private func escape(_ text: String) -> String { SVGText.escape(text) }

    /// The estimated width in px of `text` in the figure's sans-serif font: 6.5 px a character at font size 11
    /// (an average over digits and lowercase letters; no font metrics are at hand).
    static func textWidth(_ text: String, fontSize: Double) -> Double { Double(text.count) * 6.5 / 11 * fontSize }

    /// `text` in at most `maximumLines` lines no wider than `width`: wrapped at spaces, in the largest font size
    /// from `fontSize` down to `minimumFontSize` (in steps of 1) at which it fits; failing that, at the smallest
    /// size, cut short with "…". `whole` says whether all of the text is there.
    static func fit(_ text: String, width: Double, fontSize: Double, minimumFontSize: Double,
                    maximumLines: Int = 1) -> (lines: [String], fontSize: Double, whole: Bool) {
        func wrap(_ size: Double) -> [String] {
            if maximumLines == 1 { return [text] }
            var lines: [String] = []
            for word in text.split(separator: " ").map(String.init) {
                if let last = lines.last, textWidth(last + " " + word, fontSize: size) <= width {
                    lines[lines.count - 1] = last + " " + word
                } else {
                    lines.append(word)
                }
            }
            return lines.isEmpty ? [""] : lines
        }
        var size = fontSize
        while true {
            let lines = wrap(size)
            if lines.count <= maximumLines && lines.allSatisfy({ textWidth($0, fontSize: size) <= width }) {
                return (lines, size, true)
            }
            if size - 1 < minimumFontSize { break }
            size -= 1
        }
        // Too long even at the smallest size: what fits, with "…" where text is left out.
        let wrapped = wrap(size)
        var lines = Array(wrapped.prefix(maximumLines))
        let characters = max(1, Int(width / textWidth("x", fontSize: size)))
        for i in lines.indices {
            let continues = i == lines.count - 1 && wrapped.count > lines.count
            if lines[i].count > characters || continues {
                lines[i] = String(lines[i].prefix(min(lines[i].count, characters - 1))) + "…"
            }
        }
        return (lines, size, false)
    }

    /// An axis: a range with round ends that covers the data, its ticks and their labels. Built for any finite
    /// data, however close together, far apart or large the values: the range is never empty, no arithmetic
    /// overflows, there are at most a few ticks, and ``fraction(_:)`` is always finite.
    struct Axis {
        let low: Double, high: Double
        let ticks: [Double]
        /// One label per tick, all in one format (0, 5k, 10k; or 0.0, 0.5, 1.0).
        let labels: [String]

        /// `unitInterval`: data in 0...1 (an accuracy) gets the range 0...1. `roundedEnds`: the range ends at
        /// multiples of the tick step, else at the data (a single value still gets a range around it).
        init(covering dataLow: Double, _ dataHigh: Double, unitInterval: Bool, roundedEnds: Bool = true) {
            var low = min(dataLow, dataHigh), high = max(dataLow, dataHigh)
            let largest = Double.greatestFiniteMagnitude
            let step: Double
            if unitInterval && low >= 0 && high <= 1 {
                (low, high, step) = (0, 1, 0.2)
            } else {
                // Half spans throughout: high - low overflows for -1.7e308...1.7e308.
                let magnitude = max(abs(low), abs(high))
                if high / 2 - low / 2 <= magnitude * 1e-12 {
                    // One value, or values that differ only by rounding: a range around it.
                    let centre = low / 2 + high / 2, pad = magnitude >= 1e-300 ? magnitude / 10 : 1
                    (low, high) = (max(centre - pad, -largest), min(centre + pad, largest))
                }
                step = Axis.niceStep((high / 2 - low / 2) / 2.5)
                if roundedEnds {
                    // Where they stay finite.
                    low = min(low, max((low / step).rounded(.down) * step, -largest))
                    high = max(high, min((high / step).rounded(.up) * step, largest))
                }
            }
            self.low = low
            self.high = high
            let first = (low / step).rounded(.up), last = (high / step).rounded(.down)
            if first.isFinite && last.isFinite && first <= last && last - first <= 20 {
                ticks = (0...Int(last - first)).map { (first + Double($0)) * step }.filter { $0.isFinite && $0 >= low && $0 <= high }
            } else {
                ticks = [low, high]
            }
            labels = Axis.labels(ticks, step: step)
        }

        /// Where `value` lies on the axis: 0 at `low`, 1 at `high`.
        func fraction(_ value: Double) -> Double {
            let half = high / 2 - low / 2
            let fraction = half > 0 ? (value / 2 - low / 2) / half : 0.5
            return fraction.isFinite ? min(max(fraction, 0), 1) : 0.5
        }

        /// 1, 2 or 5 times a power of ten, at least `raw` (> 0).
        static func niceStep(_ raw: Double) -> Double {
            guard raw > 0, raw.isFinite else { return 1 }
            let power = pow(10, log10(raw).rounded(.down))
            let fraction = raw / power
            let step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
            return step.isFinite && step > 0 ? step : raw
        }

        /// The ticks' labels in one format: with a k or M suffix on all of them when the largest needs one, with as
        /// many decimals as the step needs; in scientific notation for very large or small values.
        static func labels(_ ticks: [Double], step: Double) -> [String] {
            let largest = ticks.map(abs).max() ?? 0
            func exponent(_ v: Double) -> Int { v > 0 && v.isFinite ? Int(log10(v).rounded(.down)) : 0 }
            let (divisor, suffix) = largest >= 1e6 ? (1e6, "M") : largest >= 1e4 ? (1e3, "k") : (1.0, "")
            let decimals = max(0, -exponent(step / divisor))
            if largest >= 1e12 || (largest > 0 && largest < 1e-3) || decimals > 8 {
                let digits = min(15, max(0, (largest > 0 ? exponent(largest) : exponent(step)) - exponent(step)))
                return ticks.map { $0 == 0 ? "0" : String(format: "%.\(digits)e", $0) }
            }
            return ticks.map { tick in
                if tick == 0 { return "0" + (decimals > 0 && suffix.isEmpty ? "." + String(repeating: "0", count: decimals) : "") }
                return String(format: "%.\(decimals)f", tick / divisor) + suffix
            }
        }
    }
}
