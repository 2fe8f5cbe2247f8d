/**
 * Test support: a minimal Redis client over one TCP connection (RESP2 and RESP3 replies), enough
 * to read the server's command table (`COMMAND INFO`, `COMMAND DOCS`: nested arrays and maps
 * redis-cli cannot print faithfully), to keep one connection open across an ACL reload, and to
 * receive RESP3 push messages (client-tracking invalidations).
 *
 * Commands go out as RESP arrays of bulk strings, so arguments may hold spaces. Every wait is
 * bounded; only 127.0.0.1 is used by the tests.
 */
import * as net from "node:net";

/** A parsed reply. Error replies become `RespError` values (not thrown), as redis-cli shows them. */
export type RespValue = string | number | bigint | boolean | null | RespError | RespValue[] | Map<string, RespValue>;

export class RespError {
    constructor(readonly message: string) {}
    toString(): string {
        return this.message;
    }
}

/** A reply as text: an error's message, a string as is, anything else as JSON. */
export function text(value: RespValue): string {
    if (value instanceof RespError) return value.message;
    if (typeof value === "string") return value;
    return JSON.stringify(value, (_k, v: unknown) =>
        v instanceof Map ? Object.fromEntries(v) : typeof v === "bigint" ? v.toString() : v instanceof RespError ? v.message : v,
    );
}

/** A push message (RESP3 `>`), e.g. `["invalidate", ["client-b:k"]]`. */
export type RespPush = RespValue[];

class Incomplete extends Error {}

/** Parses one value at `offset`; throws Incomplete when the buffer ends first. */
function parse(buf: Buffer, offset: number): { value: RespValue; next: number; push: boolean } {
    const eol = buf.indexOf("\r\n", offset);
    if (eol < 0) throw new Incomplete();
    const type = String.fromCharCode(buf[offset]);
    const line = buf.toString("utf8", offset + 1, eol);
    const after = eol + 2;
    const aggregate = (count: number, push = false) => {
        const items: RespValue[] = [];
        let next = after;
        for (let i = 0; i < count; i++) {
            const item = parse(buf, next);
            items.push(item.value);
            next = item.next;
        }
        return { value: items, next, push };
    };
    switch (type) {
        case "+":
            return { value: line, next: after, push: false };
        case "-":
            return { value: new RespError(line), next: after, push: false };
        case ":":
            return { value: Number(line), next: after, push: false };
        case "(":
            return { value: BigInt(line), next: after, push: false };
        case ",":
            return { value: Number(line), next: after, push: false };
        case "#":
            return { value: line === "t", next: after, push: false };
        case "_":
            return { value: null, next: after, push: false };
        case "$":
        case "=":
        case "!": {
            const length = Number(line);
            if (length < 0) return { value: null, next: after, push: false };
            if (buf.length < after + length + 2) throw new Incomplete();
            const text = buf.toString("utf8", after, after + length);
            const value = type === "!" ? new RespError(text) : type === "=" ? text.slice(4) : text;
            return { value, next: after + length + 2, push: false };
        }
        case "*":
        case "~": {
            const count = Number(line);
            return count < 0 ? { value: null, next: after, push: false } : aggregate(count);
        }
        case ">":
            return aggregate(Number(line), true);
        case "%":
        case "|": {
            const pairs = aggregate(Number(line) * 2);
            const items = pairs.value;
            const map = new Map<string, RespValue>();
            for (let i = 0; i < items.length; i += 2) map.set(text(items[i]), items[i + 1]);
            // Attributes (`|`) precede the real reply: skip them.
            if (type === "|") return parse(buf, pairs.next);
            return { value: map, next: pairs.next, push: false };
        }
        default:
            throw new Error(
                `unexpected RESP type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString("utf8", offset, Math.min(buf.length, offset + 80)))}`,
            );
    }
}

function encode(args: readonly string[]): Buffer {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
    return Buffer.from(parts.join(""));
}

export class RespConnection {
    private buffer = Buffer.alloc(0);
    private readonly waiting: Array<{ resolve: (v: RespValue) => void; reject: (e: Error) => void }> = [];
    private closedError: Error | undefined;
    /** Push messages received so far (RESP3 only). */
    readonly pushes: RespPush[] = [];

    private constructor(
        private readonly socket: net.Socket,
        private readonly timeoutMs: number,
    ) {
        socket.on("data", (chunk: Buffer) => this.onData(chunk));
        socket.on("close", () => this.fail(new Error("the connection was closed by the server")));
        socket.on("error", (e) => this.fail(e));
    }

    static connect(host: string, port: number, timeoutMs = 5000): Promise<RespConnection> {
        return new Promise((resolve, reject) => {
            const socket = net.createConnection({ host, port });
            const timer = setTimeout(() => {
                socket.destroy();
                reject(new Error(`connecting to ${host}:${port} timed out`));
            }, timeoutMs);
            socket.once("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
            socket.once("connect", () => {
                clearTimeout(timer);
                resolve(new RespConnection(socket, timeoutMs));
            });
        });
    }

    /** Whether the server has closed this connection. */
    get closed(): boolean {
        return this.closedError !== undefined;
    }

    /** Sends one command and resolves with its reply (error replies are RespError values). */
    call(...args: string[]): Promise<RespValue> {
        if (this.closedError) return Promise.reject(this.closedError);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no reply to ${args[0]} within ${this.timeoutMs} ms`)), this.timeoutMs);
            this.waiting.push({
                resolve: (v) => {
                    clearTimeout(timer);
                    resolve(v);
                },
                reject: (e) => {
                    clearTimeout(timer);
                    reject(e);
                },
            });
            this.socket.write(encode(args));
        });
    }

    /** Like call(), but throws on an error reply. */
    async ok(...args: string[]): Promise<RespValue> {
        const reply = await this.call(...args);
        if (reply instanceof RespError) throw new Error(`${args.slice(0, 2).join(" ")}: ${reply.message}`);
        return reply;
    }

    close(): void {
        this.socket.destroy();
    }

    private onData(chunk: Buffer): void {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        for (;;) {
            let parsed;
            try {
                parsed = parse(this.buffer, 0);
            } catch (e) {
                if (e instanceof Incomplete) return;
                this.fail(e as Error);
                return;
            }
            this.buffer = this.buffer.subarray(parsed.next);
            if (parsed.push) this.pushes.push(parsed.value as RespPush);
            else this.waiting.shift()?.resolve(parsed.value);
        }
    }

    private fail(e: Error): void {
        this.closedError ??= e;
        for (const w of this.waiting.splice(0)) w.reject(e);
    }
}
