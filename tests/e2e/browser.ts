/**
 * Debian's Chromium driven by playwright-core (no browser download): every tenant host resolves
 * to the load balancer's loopback port and nothing else resolves at all, so the browser never
 * leaves the machine. The flags keep Chromium's own background traffic off (this closed network
 * refuses it, many connections at a time, which slows every page).
 */
import * as fs from "fs";
import * as path from "path";
import { Browser, chromium } from "playwright-core";
import { CHROMIUM } from "../support/real-servers";
import { REPO_ROOT } from "../../tools/lib/stack-files";

/** Screenshots of every page the e2e test opens (git-ignored). */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, "test-artifacts", "e2e");

/** The page's own deadlines (app/frontend/build.js): 5 s a request, 40 polls of 250 ms for a task. */
const PAGE_SETTLES_MS = 25_000;

export function launchBrowser(hosts: Record<string, number>): Promise<Browser> {
    const rules = [...Object.entries(hosts).map(([host, port]) => `MAP ${host} 127.0.0.1:${port}`), "MAP * ~NOTFOUND"].join(", ");
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // playwright gives each launch a fresh --user-data-dir of its own.
        args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            `--host-resolver-rules=${rules}`,
        ],
        timeout: 20_000,
    });
}

/** What the page showed, read from its DOM once it settled (or gave up). */
export interface PageReport {
    url: string;
    /** HTTP status of the document, or the navigation error. */
    load: string;
    /** body[data-state]: ready, error, or loading (still waiting when the test gave up). */
    state: string;
    apiUrl: string;
    tenant: string;
    task: string;
    taskResult: string;
    error: string;
    /** The browser console's errors (CORS refusals show up here). */
    console: string[];
    screenshot: string;
}

export async function openPage(browser: Browser, url: string, screenshotName: string): Promise<PageReport> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 420 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
    });
    const report: PageReport = {
        url,
        load: "",
        state: "",
        apiUrl: "",
        tenant: "",
        task: "",
        taskResult: "",
        error: "",
        console: consoleErrors,
        screenshot: "",
    };
    try {
        try {
            const res = await page.goto(url, { waitUntil: "load", timeout: 10_000 });
            report.load = res ? `HTTP ${res.status()}` : "no response";
            if (res && res.status() !== 200) report.error = (await res.text()).trim().slice(0, 300);
        } catch (err) {
            report.load = (err as Error).message.split("\n")[0];
        }
        if (report.load === "HTTP 200") {
            await page
                .waitForSelector("body[data-state=ready], body[data-state=error]", { timeout: PAGE_SETTLES_MS })
                .catch(() => undefined);
            const text = (sel: string) =>
                page
                    .locator(sel)
                    .first()
                    .textContent({ timeout: 1000 })
                    .then((t) => (t ?? "").trim())
                    .catch(() => "");
            report.state =
                (await page.getAttribute("body", "data-state", { timeout: 1000 }).catch(() => null)) ??
                "(no data-state: not the stock page)";
            [report.apiUrl, report.tenant, report.task, report.taskResult] = await Promise.all(
                ["#api-url", "#tenant", "#task", "#task-result"].map(text),
            );
            report.error = await text("#error");
        }
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
        report.screenshot = path.join(SCREENSHOT_DIR, `${screenshotName}.png`);
        await page.screenshot({ path: report.screenshot, timeout: 5000 });
    } finally {
        await context.close();
    }
    return report;
}

/**
 * Asserts that the page is `tenant`'s, working: it loaded, called the API at `apiUrl`, showed the
 * tenant's name, and a task it sent came back run by that tenant's worker. The failure message says
 * what the page showed instead (its error state names the URL it tried).
 */
export function assertTenantPage(report: PageReport, expected: { tenant: string; apiUrl: string }): void {
    const problems: string[] = [];
    if (report.load !== "HTTP 200") problems.push(`the page did not load: ${report.load}${report.error ? ` (${report.error})` : ""}`);
    else {
        if (report.state !== "ready") problems.push(`the page is in state "${report.state}"${report.error ? `: ${report.error}` : ""}`);
        if (report.apiUrl !== expected.apiUrl)
            problems.push(`the page calls the API at ${report.apiUrl || "(none)"}, expected ${expected.apiUrl}`);
        if (report.tenant !== expected.tenant) problems.push(`the page shows tenant "${report.tenant}", expected "${expected.tenant}"`);
        const done = `run by ${expected.tenant} on queue summary`;
        if (report.taskResult !== done) problems.push(`the task result reads "${report.taskResult}", expected "${done}"`);
    }
    if (problems.length) {
        const consoleLines = report.console.length ? `\n  browser console:\n    ${report.console.join("\n    ")}` : "";
        throw new Error(
            `${report.url} is not ${expected.tenant}'s working site:\n  - ${problems.join("\n  - ")}${consoleLines}\n  screenshot: ${report.screenshot}`,
        );
    }
}
