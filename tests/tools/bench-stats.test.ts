import * as assert from "assert";
import { goalVerdict, median, spread } from "../../tools/lib/bench/stats";

describe("bench statistics", () => {
    it("medians of odd and even counts, spreads with their extremes", () => {
        assert.strictEqual(median([3, 1, 2]), 2);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
        assert.deepStrictEqual(spread([1.4, 1.2, 1.6]), { min: 1.2, median: 1.4, max: 1.6 });
        assert.throws(() => median([]), /median of nothing/);
    });

    it("a goal is met only when every run is within it, and never on a median above it", () => {
        assert.deepStrictEqual(goalVerdict([1.2, 1.3, 1.5], 1.5), { status: "met", above: 0 });
        assert.deepStrictEqual(goalVerdict([1.2, 1.3, 1.6], 1.5), { status: "met on the median", above: 1 });
        assert.deepStrictEqual(goalVerdict([1.2, 1.51, 1.6], 1.5), { status: "missed", above: 2 });
    });
});
