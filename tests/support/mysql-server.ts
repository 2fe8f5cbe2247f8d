/**
 * Test support: a real (Debian) MariaDB server on a free loopback port, standing for the external
 * MySQL the tenants' API connects to (the seed keeps MySQL outside the cluster). Its data directory
 * is a fresh temp dir (mariadb-install-db), root logs in over the Unix socket only, and each
 * tenant's database and user are created as a DBA would before the tenant is deployed: from the
 * database name, user and password the stack itself renders (MYSQL_DATABASE, DJANGO_DB_USER,
 * DJANGO_DB_PWD), so a wrong credential in the Secret fails the API's readiness probe.
 *
 * Only 127.0.0.1, every wait bounded. InnoDB is made small and lazy (tiny log, no doublewrite, no
 * flush per commit): the data is thrown away after the test.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import {
    MARIADB_CLIENT,
    MARIADB_INSTALL_DB,
    MARIADB_SERVER,
    ManagedProcess,
    runToCompletion,
    startProcess,
    waitUntil,
} from "./real-servers";

export interface MysqlServer {
    host: string;
    port: number;
    /** Run SQL as root over the Unix socket; returns the client's output. */
    sql(statements: string): string;
    /** Create `database` and a user of it that logs in from anywhere with `password`. */
    createTenantDatabase(database: string, user: string, password: string): void;
    stop(): Promise<void>;
}

const SERVER_OPTIONS = [
    "--innodb-log-file-size=4M",
    "--innodb-buffer-pool-size=16M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--skip-log-bin",
    "--skip-name-resolve",
];

/** A literal for SQL: the tests' names and fake passwords, quoted (and refused if they could break out). */
function quote(value: string): string {
    if (!/^[A-Za-z0-9_:.@$-]+$/.test(value)) throw new Error(`not a plain SQL literal: ${JSON.stringify(value)}`);
    return `'${value}'`;
}

function identifier(name: string): string {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`not a MySQL database name: ${JSON.stringify(name)}`);
    return `\`${name}\``;
}

export async function startMysqlServer(port: number): Promise<MysqlServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stock-mysql-"));
    const datadir = path.join(dir, "data");
    const socket = path.join(dir, "mysqld.sock");
    const user = os.userInfo().username;
    let server: ManagedProcess | undefined;
    const stop = async () => {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        // Asynchronous: it takes seconds, mostly waiting, while the caller runs the stacks' programs.
        await promisify(execFile)(
            MARIADB_INSTALL_DB,
            [
                "--no-defaults",
                `--datadir=${datadir}`,
                `--user=${user}`,
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                ...SERVER_OPTIONS,
            ],
            { timeout: 60_000, killSignal: "SIGKILL", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
        ).catch((err: Error & { stdout?: string; stderr?: string }) => {
            throw new Error(`${MARIADB_INSTALL_DB} failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
        });
        server = startProcess("mariadb", MARIADB_SERVER, [
            "--no-defaults",
            `--datadir=${datadir}`,
            `--socket=${socket}`,
            `--port=${port}`,
            "--bind-address=127.0.0.1",
            `--user=${user}`,
            `--pid-file=${path.join(dir, "mysqld.pid")}`,
            ...SERVER_OPTIONS,
        ]);
        const sql = (statements: string) =>
            runToCompletion(MARIADB_CLIENT, ["--no-defaults", `--socket=${socket}`, "--user=root", "--batch", "-e", statements], {
                timeoutMs: 15_000,
            });
        const started = server;
        await waitUntil(
            `MariaDB on 127.0.0.1:${port} to accept queries`,
            () => {
                if (!fs.existsSync(socket)) return false;
                sql("SELECT 1");
                return true;
            },
            { process: started, timeoutMs: 20_000, intervalMs: 100 },
        );
        return {
            host: "127.0.0.1",
            port,
            sql,
            createTenantDatabase(database, dbUser, password) {
                sql(
                    `CREATE DATABASE ${identifier(database)} CHARACTER SET utf8mb4;` +
                        `CREATE USER ${quote(dbUser)}@'%' IDENTIFIED BY ${quote(password)};` +
                        `GRANT ALL ON ${identifier(database)}.* TO ${quote(dbUser)}@'%';`,
                );
            },
            stop,
        };
    } catch (err) {
        await stop();
        throw err;
    }
}
