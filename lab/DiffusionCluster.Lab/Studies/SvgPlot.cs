using System.Globalization;
using System.Text;

namespace DiffusionCluster.Lab.Studies;

/// A line chart as SVG text: one line per series (each with its own x values), axes with ticks, and a
/// legend. Enough for a study's figure without a plotting dependency.
public static class SvgPlot
{
    static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    /// Series over shared x values.
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<double> xs,
        IReadOnlyList<(string Name, IReadOnlyList<double> Ys)> series) =>
        Lines(title, xLabel, yLabel, series.Select(s => (s.Name, xs, s.Ys)).ToList());

    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Xs, IReadOnlyList<double> Ys)> series)
    {
        const double width = 560, height = 360, left = 60, right = 150, top = 36, bottom = 48;
        double plotW = width - left - right, plotH = height - top - bottom;
        var values = series.SelectMany(s => s.Ys).Where(double.IsFinite).ToList();
        double yMin = Math.Min(0, values.DefaultIfEmpty(0).Min()), yMax = values.DefaultIfEmpty(1).Max();
        if (yMax <= yMin) yMax = yMin + 1;
        var xs = series.SelectMany(s => s.Xs).Where(double.IsFinite).ToList();
        double xMin = xs.Min(), xMax = xs.Max() > xs.Min() ? xs.Max() : xs.Min() + 1;
        double X(double x) => left + (x - xMin) / (xMax - xMin) * plotW;
        double Y(double y) => top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
        static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{F(width / 2)}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n");
        svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(top + plotH)}\" x2=\"{F(left + plotW)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(top)}\" x2=\"{F(left)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double x = xMin + i * (xMax - xMin) / 4;
            svg.Append($"<text x=\"{F(X(x))}\" y=\"{F(top + plotH + 16)}\" text-anchor=\"middle\">{F(x)}</text>\n");
        }
        for (int i = 0; i <= 4; i++)
        {
            double y = yMin + i * (yMax - yMin) / 4;
            svg.Append($"<text x=\"{F(left - 6)}\" y=\"{F(Y(y) + 4)}\" text-anchor=\"end\">{F(y)}</text>\n");
            svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(Y(y))}\" x2=\"{F(left + plotW)}\" y2=\"{F(Y(y))}\" stroke=\"#ddd\"/>\n");
        }
        svg.Append($"<text x=\"{F(left + plotW / 2)}\" y=\"{F(height - 10)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(16 {F(top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            var colour = Colours[s % Colours.Length];
            var points = series[s].Xs.Zip(series[s].Ys).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second))
                .Select(p => $"{F(X(p.First))},{F(Y(p.Second))}");
            foreach (var point in points)
                svg.Append($"<circle cx=\"{point.Split(',')[0]}\" cy=\"{point.Split(',')[1]}\" r=\"3\" fill=\"{colour}\"/>\n");
            svg.Append($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', points)}\"/>\n");
            svg.Append($"<line x1=\"{F(left + plotW + 12)}\" y1=\"{F(top + 10 + 18 * s)}\" x2=\"{F(left + plotW + 32)}\" y2=\"{F(top + 10 + 18 * s)}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n");
            svg.Append($"<text x=\"{F(left + plotW + 36)}\" y=\"{F(top + 14 + 18 * s)}\">{Escape(series[s].Name)}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
