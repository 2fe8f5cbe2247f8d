/**
 * `npm run fleet -- ... --report-file FILE`: the JSON report on disk, rewritten after every finished
 * stack (partial, `complete: false`) and once more at the end. A job stopped at any moment (its
 * timeout, a cancel) leaves the last whole report, never a half-written one: each version is
 * written to a temporary file next to FILE, then renamed over it (rename is atomic within one
 * file system, so a reader sees the old file or the new one).
 */
import * as fs from "fs";
import * as path from "path";
import { FleetReport, formatFleetJson } from "./report";

export function writeReportFile(file: string, report: FleetReport): void {
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
        fs.writeFileSync(temporary, formatFleetJson(report));
        fs.renameSync(temporary, file);
    } finally {
        fs.rmSync(temporary, { force: true });
    }
}
