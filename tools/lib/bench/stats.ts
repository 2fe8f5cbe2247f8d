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
