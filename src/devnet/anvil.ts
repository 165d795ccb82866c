/**
 * Starts and stops the anvil process behind the local world.
 *
 * anvil comes from `@foundry-rs/anvil` (installed by `npm ci`, nothing downloaded at run time). It runs
 * in OP mode (`--network optimism`: deposit transactions, OP receipts) with the default test mnemonic,
 * so account keys are deterministic. Setup runs under automine (fast); the caller switches to interval
 * mining afterwards. A busy port is detected before spawning, so the user gets a clear error instead of
 * a hang or anvil's raw bind error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NetmarginError } from '../common/errors';

/** anvil's (and Hardhat's) public test mnemonic: never use these keys on a real network. */
export const ANVIL_TEST_MNEMONIC = 'test test test test test test test test test test test junk';

export interface AnvilOptions {
  host: string;
  port: number;
  chainId: number;
  accounts: number;
  balanceEth: number;
  /** Print anvil's own log lines (debugging). */
  verbose?: boolean;
}

export interface AnvilHandle {
  rpcUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The native anvil binary from the platform package `@foundry-rs/anvil` installs (e.g.
 * `@foundry-rs/anvil-linux-amd64`), so stopping it is one signal to one process; falls back to the
 * package's Node wrapper (which relays signals to the binary) on an unmapped platform.
 */
export function anvilBinaryPath(): string {
  const nodeModules = join(__dirname, '..', '..', 'node_modules');
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  if (arch && process.platform !== 'win32') {
    const native = join(nodeModules, '@foundry-rs', `anvil-${process.platform}-${arch}`, 'bin', 'anvil');
    if (existsSync(native)) return native;
  }
  return join(nodeModules, '.bin', 'anvil');
}

/** Asks the OS for a free TCP port on `host` (used by tests to avoid collisions). */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves when nothing listens on host:port; throws PORT_IN_USE otherwise. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new NetmarginError(`Port ${port} on ${host} is already in use`, {
            code: 'PORT_IN_USE',
            hint: `Stop whatever listens there (an earlier devnet?) or pick another port: npm run devnet -- --port ${port + 1}`,
            details: { host, port },
          }),
        );
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(
          new NetmarginError(`Cannot listen on host ${host}: no such local address`, {
            code: 'HOST_UNAVAILABLE',
            hint: 'Use --host 127.0.0.1 (default) or 0.0.0.0 to listen on every interface.',
            details: { host, port },
          }),
        );
      } else {
        reject(err);
      }
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

export async function startAnvil(opts: AnvilOptions): Promise<AnvilHandle> {
  const bin = anvilBinaryPath();
  if (!existsSync(bin)) {
    throw new NetmarginError(`anvil not found at ${bin}`, {
      code: 'ANVIL_MISSING',
      hint: 'Run `npm ci` in the repository root: it installs anvil from @foundry-rs/anvil.',
    });
  }
  await assertPortFree(opts.host, opts.port);

  const args = [
    '--host',
    opts.host,
    '--port',
    String(opts.port),
    '--chain-id',
    String(opts.chainId),
    '--network',
    'optimism',
    '--accounts',
    String(opts.accounts),
    '--balance',
    String(opts.balanceEth),
    '--mnemonic',
    ANVIL_TEST_MNEMONIC,
    // Aave's L2Pool is just under 24 KiB; keep the real EIP-170 limit so we deploy what mainnet runs.
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const rpcHost = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  const rpcUrl = `http://${rpcHost}:${opts.port}`;

  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new NetmarginError('anvil did not start within 20 s', {
          code: 'ANVIL_TIMEOUT',
          hint: 'Check that the machine is not overloaded; run with --verbose to see anvil output.',
          details: { output: output.slice(-2000) },
        }),
      );
    }, 20_000);
    const onData = (buf: Buffer): void => {
      const text = buf.toString();
      output += text;
      if (opts.verbose) process.stderr.write(text);
      if (output.includes('Listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(
        new NetmarginError(`anvil failed to start: ${err.message}`, { code: 'ANVIL_FAILED', cause: err }),
      );
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const inUse = /address already in use/i.test(output);
      reject(
        new NetmarginError(
          inUse
            ? `Port ${opts.port} on ${opts.host} is already in use`
            : `anvil exited early (code ${code}, signal ${signal})`,
          {
            code: inUse ? 'PORT_IN_USE' : 'ANVIL_FAILED',
            hint: inUse ? `Pick another port: npm run devnet -- --port ${opts.port + 1}` : undefined,
            details: { output: output.slice(-2000) },
          },
        ),
      );
    });
  });
  child.removeAllListeners('exit');
  // If this process exits without calling stop() (an uncaught error, process.exit), take anvil along.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  if (!opts.verbose) {
    child.stdout?.removeAllListeners('data');
    child.stderr?.removeAllListeners('data');
    child.stdout?.resume();
    child.stderr?.resume();
  }

  let stopped: Promise<void> | undefined;
  return {
    rpcUrl,
    process: child,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
