import Foundation

/// The final evaluation against model size, as an SVG figure: one line per variant, a point per size at the mean
/// over seeds with its 95% t-interval as a bar. With a baseline, each point is instead the difference to the
/// baseline paired by seed (a dashed line marks 0), so that an effect's sign at each size, and where it changes
/// (the paper's crossover), can be read off, with the intervals the study's verdicts use. Sizes are spaced evenly
/// in order of non-embedding parameters. Only finished runs count (``ResultsTable``'s rule); the runs left out are
/// named in ``leftOut`` and counted in the figure's footnote.
public struct SizePlot {
    /// A variant at a size: mean (or mean paired difference) with its 95% t-interval (`low` = `high` = `mean` with
    /// one seed), over `seeds` seeds.
    public struct Point {
        public let size: String
        public let mean: Double, low: Double, high: Double
        public let seeds: Int
    }
    public struct Series {
        public let variant: String
        public let points: [Point]
    }

    public let metric: String
    public let baseline: String?
    /// The sizes in order of non-embedding parameters, with those parameters.
    public let sizes: [(name: String, nonEmbeddingParameters: Int)]
    public let series: [Series]
    /// The runs not used, each with why (unfinished, diverged, without a finite value, or without a partner seed),
    /// and the points not drawn because their mean or interval overflows.
    public let leftOut: [String]
    /// Every variant in the files, the baseline included, in order of first appearance: a variant's colour is that
    /// of its place here, as in the learning curves of the same files.
    let colourOrder: [String]

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Reads the final evaluations of `metric` from results files (e.g. one sweep per width, each at its longest
    /// budget). A size may come from one file only: two budgets of one width side by side would be two points
    /// that the figure could not tell apart.
    public init(tables: [(table: ResultsTable, source: String)], metric: String, baseline: String? = nil) throws(Failure) {
        var sourceOf: [String: (index: Int, source: String)] = [:]
        var params: [String: Int] = [:]
        var variants: [String] = []
        var leftOut: [String] = []
        // size -> variant -> seed -> value
        var values: [String: [String: [String: Double]]] = [:]
        for (index, (table, source)) in tables.enumerated() {
            guard table.numericColumns.contains(metric) else {
                throw Failure(description: "\(source): no numeric column '\(metric)' (numeric columns: \(ResultsTable.list(table.numericColumns, limit: 30)))")
            }
            for size in table.sizes {
                if let other = sourceOf[size], other.index != index {
                    throw Failure(description: "size \(size) is in both \(other.source) and \(source): give one file per size (its longest budget)")
                }
                sourceOf[size] = (index, source)
            }
            for run in table.allRuns {
                params[run.size] = max(params[run.size] ?? 0, run.nonEmbeddingParams)
                if !variants.contains(run.variant) { variants.append(run.variant) }
            }
            leftOut += (table.diverged + table.unfinished).map { "\($0.name): \($0.problem ?? "")" }
            for run in table.runs {
                guard let value = run.values[metric], value.isFinite else {
                    leftOut.append("\(run.name): \(metric) is not a finite number")
                    continue
                }
                values[run.size, default: [:]][run.variant, default: [:]][run.seed] = value
            }
        }
        if let baseline, !variants.contains(baseline) {
            throw Failure(description: "no runs of the baseline variant '\(baseline)' (variants: \(ResultsTable.list(variants)))")
        }
        let sizes = params.keys.sorted { (params[$0]!, $0) < (params[$1]!, $1) }
        var series: [Series] = []
        for variant in variants where variant != baseline {
            var points: [Point] = []
            for size in sizes {
                guard let mine = values[size]?[variant] else { continue }
                var sample: [Double] = []
                if let baseline {
                    let theirs = values[size]?[baseline] ?? [:]
                    for (seed, value) in mine.sorted(by: { $0.key < $1.key }) {
                        if let base = theirs[seed] { sample.append(value - base) }
                        else { leftOut.append("\(variant) seed \(seed) at size \(size): no \(baseline) run of that seed to pair with") }
                    }
                } else {
                    sample = mine.sorted { $0.key < $1.key }.map(\.value)
                }
                guard !sample.isEmpty else { continue }
                let (mean, half) = ResultsTable.meanInterval(sample)
                let spread = half.isFinite ? half : 0
                // Values near the largest Double can overflow in a difference or a sum: such a point has no place
                // on an axis, and is named rather than drawn.
                guard mean.isFinite, (mean - spread).isFinite, (mean + spread).isFinite else {
                    leftOut.append("\(variant) at size \(size): the mean\(baseline == nil ? "" : " difference") of \(metric) or its interval overflows")
                    continue
                }
                points.append(Point(size: size, mean: mean, low: mean - spread, high: mean + spread, seeds: sample.count))
            }
            if !points.isEmpty { series.append(Series(variant: variant, points: points)) }
        }
        guard !series.isEmpty else {
            throw Failure(description: "no finished runs with a finite '\(metric)'\(baseline.map { " beside the baseline '\($0)'" } ?? "") to plot")
        }
        self.metric = metric
        self.baseline = baseline
        self.sizes = sizes.map { ($0, params[$0]!) }
        self.series = series
        self.leftOut = leftOut
        colourOrder = variants
    }

    private func colour(_ variant: String) -> String {
        ResultsPlot.palette[(colourOrder.firstIndex(of: variant) ?? 0) % ResultsPlot.palette.count]
    }

    /// The figure: one panel, the sizes along x (each labelled with its name and non-embedding parameters), the
    /// variants side by side at each size so that their bars do not hide each other.
    public func svg(title: String? = nil) -> String {
        let plotWidth = max(360, 110 * Double(sizes.count)), plotHeight = 300.0
        var values: [Double] = series.flatMap { line in line.points.flatMap { [$0.low, $0.high] } }
        if baseline != nil { values.append(0) }
        let yAxis = ResultsPlot.Axis(covering: values.min()!, values.max()!,
                                     unitInterval: baseline == nil && metric.hasPrefix("gen_accuracy"))
        let yLabelWidth = yAxis.labels.map { ResultsPlot.textWidth($0, fontSize: 11) }.max() ?? 0
        let marginLeft = max(56, yLabelWidth + 22), marginRight = 16.0
        let width = marginLeft + plotWidth + marginRight
        let titleText = title.map { ResultsPlot.fit($0, width: width - 16, fontSize: 15, minimumFontSize: 10, maximumLines: 3) }
        let titleLineHeight = (titleText?.fontSize ?? 0) * 1.25
        let titleHeight: Double = titleText.map { 20 + $0.fontSize + Double($0.lines.count - 1) * titleLineHeight } ?? 10
        let top = titleHeight + 10
        let plotBottom = top + plotHeight

        let legendFont = 11.0, swatch = 28.0, gap = 18.0
        let legendLabels = series.map { ResultsPlot.fit($0.variant, width: width - 40 - swatch, fontSize: legendFont, minimumFontSize: legendFont).lines[0] }
        let legendCell = swatch + (legendLabels.map { ResultsPlot.textWidth($0, fontSize: legendFont) }.max() ?? 0) + gap
        let legendColumns = max(1, Int((width - 40 + gap) / legendCell))
        let legendRows = (series.count + legendColumns - 1) / legendColumns
        let legendTop = plotBottom + 56
        let footnoteY = legendTop + 22 * Double(legendRows) + 6
        let height = footnoteY + 4

        func f(_ v: Double) -> String { SVGText.number(v) }
        func px(_ sizeIndex: Int, _ seriesIndex: Int) -> Double {
            let slot = plotWidth / Double(sizes.count)
            let dodge = min(10, slot * 0.6 / Double(max(1, series.count))) * (Double(seriesIndex) - Double(series.count - 1) / 2)
            return marginLeft + slot * (Double(sizeIndex) + 0.5) + dodge
        }
        func py(_ v: Double) -> Double { top + (1 - yAxis.fraction(v)) * plotHeight }

        var out = SVGText.opening(width: width, height: height, title: titleText)
        let left = marginLeft, right = marginLeft + plotWidth
        out += "<g class=\"axes\" stroke=\"#444\" fill=\"none\"><path d=\"M\(f(left)),\(f(top)) V\(f(plotBottom)) H\(f(right))\"/></g>\n"
        for (tick, label) in zip(yAxis.ticks, yAxis.labels) {
            out += "<line x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(py(tick)))\" y2=\"\(f(py(tick)))\" stroke=\"#e4e4e4\"/>"
            out += "<text class=\"y-tick\" x=\"\(f(left - 4))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(SVGText.escape(label))</text>\n"
        }
        if baseline != nil {
            out += "<line class=\"zero\" x1=\"\(f(left))\" x2=\"\(f(right))\" y1=\"\(f(py(0)))\" y2=\"\(f(py(0)))\" stroke=\"#444\" stroke-dasharray=\"5,4\"/>\n"
        }
        // Each size: its name, and its non-embedding parameters below it, both shrunk to the size's slot.
        let slot = plotWidth / Double(sizes.count)
        for (i, size) in sizes.enumerated() {
            let x = marginLeft + slot * (Double(i) + 0.5)
            out += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(plotBottom))\" y2=\"\(f(plotBottom + 4))\" stroke=\"#444\"/>"
            let name = ResultsPlot.fit(size.name, width: slot - 6, fontSize: 11, minimumFontSize: 7)
            out += "<text class=\"x-tick\" x=\"\(f(x))\" y=\"\(f(plotBottom + 16))\" text-anchor=\"middle\" font-size=\"\(f(name.fontSize))\">\(SVGText.escape(name.lines[0]))</text>"
            let count = ResultsPlot.fit("\(SVGText.grouped(size.nonEmbeddingParameters)) params", width: slot - 6, fontSize: 10, minimumFontSize: 7)
            out += "<text class=\"x-tick-params\" x=\"\(f(x))\" y=\"\(f(plotBottom + 30))\" text-anchor=\"middle\" fill=\"#555\" font-size=\"\(f(count.fontSize))\">\(SVGText.escape(count.lines[0]))</text>\n"
        }
        let xTitle = ResultsPlot.fit("model size (non-embedding parameters), final evaluation", width: plotWidth, fontSize: 11, minimumFontSize: 8)
        out += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(plotBottom + 46))\" text-anchor=\"middle\" font-size=\"\(f(xTitle.fontSize))\">\(SVGText.escape(xTitle.lines[0]))</text>\n"
        let yName = baseline.map { "\(metric): variant - \($0)" } ?? metric
        let yTitle = ResultsPlot.fit(yName, width: plotHeight, fontSize: 11, minimumFontSize: 8)
        out += "<text transform=\"translate(13,\(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"\(f(yTitle.fontSize))\">\(SVGText.escape(yTitle.lines[0]))</text>\n"

        for (s, line) in series.enumerated() {
            let colour = colour(line.variant), variant = SVGText.escape(line.variant)
            let placed = line.points.map { point in (point, px(sizes.firstIndex { $0.name == point.size }!, s)) }
            out += "<g class=\"series\" data-variant=\"\(variant)\">\n"
            if placed.count > 1 {
                out += "<path class=\"line\" d=\"M\(placed.map { "\(f($0.1)),\(f(py($0.0.mean)))" }.joined(separator: " L"))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.6\"/>\n"
            }
            for (point, x) in placed {
                if point.high > point.low {
                    out += "<path class=\"interval\" data-size=\"\(SVGText.escape(point.size))\" d=\"M\(f(x - 3)),\(f(py(point.high))) H\(f(x + 3)) M\(f(x)),\(f(py(point.high))) V\(f(py(point.low))) M\(f(x - 3)),\(f(py(point.low))) H\(f(x + 3))\" stroke=\"\(colour)\" stroke-width=\"1.3\" fill=\"none\"/>"
                }
                out += "<circle class=\"marker\" data-size=\"\(SVGText.escape(point.size))\" cx=\"\(f(x))\" cy=\"\(f(py(point.mean)))\" r=\"3.5\" fill=\"\(colour)\"/>\n"
            }
            out += "</g>\n"
        }
        out += "<g class=\"legend\">\n"
        for (i, label) in legendLabels.enumerated() {
            let lx: Double = 20 + Double(i % legendColumns) * legendCell
            let ly: Double = legendTop + 14 + 22 * Double(i / legendColumns)
            let colour = colour(series[i].variant)
            out += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 22))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(colour)\" stroke-width=\"2.5\"/>"
            out += "<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly - 4))\" r=\"3\" fill=\"\(colour)\"/>"
            out += "<text x=\"\(f(lx + swatch))\" y=\"\(f(ly))\">\(SVGText.escape(label))</text>\n"
        }
        out += "</g>\n"
        var note = baseline == nil ? "points: mean over seeds; bars: 95% t-interval over seeds"
            : "points: mean difference paired by seed; bars: its 95% t-interval over seeds"
        if !leftOut.isEmpty { note += "; \(leftOut.count) left out (unfinished, diverged, unpaired or overflowing)" }
        let footnote = ResultsPlot.fit(note, width: width - 16, fontSize: 9, minimumFontSize: 7)
        out += "<text x=\"\(f(width - 8))\" y=\"\(f(footnoteY))\" text-anchor=\"end\" fill=\"#777\" font-size=\"\(f(footnote.fontSize))\">\(SVGText.escape(footnote.lines[0]))</text>\n"
        out += "</svg>\n"
        return out
    }
}

/// Numbers and text as the figures write them.
enum SVGText {
    /// A coordinate or size with one decimal. Every number is finite by construction; a non-finite one would make
    /// the document unreadable, so it is written as 0 rather than as nan or inf.
    static func number(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : "0.0" }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A figure's opening: the document element, a white background, and the title's lines (as fitted, centred).
    static func opening(width: Double, height: Double, title: (lines: [String], fontSize: Double, whole: Bool)?) -> String {
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" viewBox="0 0 \(number(width)) \(number(height))" font-family="Helvetica, Arial, sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>

        """
        if let title {
            for (i, line) in title.lines.enumerated() {
                let y = 8 + title.fontSize + Double(i) * (title.fontSize * 1.25)
                out += "<text class=\"title\" x=\"\(number(width / 2))\" y=\"\(number(y))\" text-anchor=\"middle\" font-size=\"\(number(title.fontSize))\">\(escape(line))</text>\n"
            }
        }
        return out
    }

    /// An integer with thousands separators: 400,000.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
