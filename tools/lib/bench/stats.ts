/** Small statistics for the bench: medians of repeated whole-process measurements. */

export function median(values: number[]): number {
    if (!values.length) throw new Error("median of nothing");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `b / a`, rounded for a table. */
export function ratio(a: number, b: number): number {
    return Math.round((b / a) * 100) / 100;
}

export interface Spread {
    min: number;
    median: number;
    max: number;
}

export function spread(values: number[]): Spread {
    return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

/**
 * Whether repeated ratios stay within `goal`, said as plainly as the noise allows: "met" only when
 * every run is within it, "met on the median" when the median is but some runs are not (on a shared
 * machine a verdict on one run would be a coin toss), otherwise "missed".
 */
export function goalVerdict(ratios: number[], goal: number): { status: "met" | "met on the median" | "missed"; above: number } {
    const above = ratios.filter((r) => r > goal).length;
    const status = above === 0 ? "met" : median(ratios) <= goal ? "met on the median" : "missed";
    return { status, above };
}
