/**
 * A line chart as an SVG document: time (log scale) against tenant count (log scale), one line per
 * series. Written by the bench itself, so the plot always shows the figures in results.md.
 */

export interface Series {
    name: string;
    /** [tenants, milliseconds] */
    points: [number, number][];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

function escape(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function decades(min: number, max: number): number[] {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
    return out;
}

export function plotSvg(title: string, series: Series[], width = 760, height = 440): string {
    const margin = { left: 70, right: 230, top: 40, bottom: 50 };
    const all = series.flatMap((s) => s.points);
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => Math.max(p[1], 0.01));
    const xTicks = decades(Math.min(...xs), Math.max(...xs));
    const yTicks = decades(Math.min(...ys), Math.max(...ys));
    const [x0, x1] = [Math.log10(xTicks[0]), Math.log10(xTicks[xTicks.length - 1])];
    const [y0, y1] = [Math.log10(yTicks[0]), Math.log10(yTicks[yTicks.length - 1])];
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const x = (v: number) => margin.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * plotW;
    const y = (v: number) => margin.top + plotH - ((Math.log10(Math.max(v, 0.01)) - y0) / (y1 - y0 || 1)) * plotH;
    const label = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);
    const parts: string[] = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
        `<rect width="${width}" height="${height}" fill="white"/>`,
        `<text x="${margin.left}" y="22" font-size="15">${escape(title)}</text>`,
    ];
    for (const t of xTicks) {
        parts.push(`<line x1="${x(t)}" y1="${margin.top}" x2="${x(t)}" y2="${margin.top + plotH}" stroke="#ddd"/>`);
        parts.push(`<text x="${x(t)}" y="${margin.top + plotH + 18}" text-anchor="middle">${t}</text>`);
    }
    for (const t of yTicks) {
        parts.push(`<line x1="${margin.left}" y1="${y(t)}" x2="${margin.left + plotW}" y2="${y(t)}" stroke="#ddd"/>`);
        parts.push(`<text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${label(t)}</text>`);
    }
    parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">tenants in the repository (log scale)</text>`);
    parts.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">median time (log scale)</text>`);
    series.forEach((s, i) => {
        const colour = COLOURS[i % COLOURS.length];
        const pts = [...s.points].sort((a, b) => a[0] - b[0]);
        parts.push(
            `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" ")}"/>`,
        );
        for (const [a, b] of pts)
            parts.push(
                `<circle cx="${x(a).toFixed(1)}" cy="${y(b).toFixed(1)}" r="3" fill="${colour}"><title>${escape(s.name)}: ${a} tenants, ${b} ms</title></circle>`,
            );
        const ly = margin.top + 10 + i * 20;
        parts.push(
            `<line x1="${margin.left + plotW + 15}" y1="${ly}" x2="${margin.left + plotW + 35}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
        );
        parts.push(`<text x="${margin.left + plotW + 40}" y="${ly + 4}">${escape(s.name)}</text>`);
    });
    parts.push("</svg>");
    return `${parts.join("\n")}\n`;
}
