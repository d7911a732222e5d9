import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startActionReceiver, type ActionReceiver } from '../../infra/local/demo-crm/action-receiver.ts';
import { startDynamoLocal, type LocalDynamo } from '../../infra/local/dynamo.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { startTestStack } from './local-stack.ts';

/** A listening TCP socket of the host's network namespace, from /proc/net/tcp and tcp6. */
interface ListeningSocket {
  address: string;
  port: number;
  inode: string;
}

const LOOPBACK = new Set([
  '0100007F',
  '00000000000000000000000001000000',
  '0000000000000000FFFF00000100007F',
]);

function listeningSockets(): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], fields[9]];
      if (!local || state !== '0A' || !inode) continue;
      const [address = '', portHex = '0'] = local.split(':');
      sockets.push({ address, port: Number.parseInt(portHex, 16), inode });
    }
  }
  return sockets;
}

/** The socket inodes held open by a process and its descendants (the JVM included). */
function socketInodesOf(rootPid: number): Set<string> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), parent);
    } catch {
      // The process ended meanwhile.
    }
  }
  const family = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (family.has(parent) && !family.has(pid)) {
        family.add(pid);
        grew = true;
      }
    }
  }
  const inodes = new Set<string>();
  for (const pid of family) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return inodes;
}

describe.runIf(process.platform === 'linux')('the local stack listens on loopback only', () => {
  let stack: LocalStack;
  let dynamo: LocalDynamo;
  let receiver: ActionReceiver;

  beforeAll(async () => {
    // A DynamoDB Local of its own, started the way `npm start` starts it.
    dynamo = await startDynamoLocal(null);
    stack = await startTestStack();
    receiver = await startActionReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await stack.stop();
    await dynamo.stop();
  });

  it('binds every listening socket of the stack, its model server, receiver and DynamoDB to loopback', () => {
    const ours = socketInodesOf(process.pid);
    const listening = listeningSockets().filter((socket) => ours.has(socket.inode));
    const ports = [stack.url, stack.modelServer?.url, receiver.url, dynamo.endpoint].map((url) =>
      Number(new URL(String(url)).port),
    );
    for (const port of ports) {
      expect(listening.map((socket) => socket.port)).toContain(port);
    }
    expect(listening.filter((socket) => !LOOPBACK.has(socket.address))).toEqual([]);
  });

  it('keeps DynamoDB Local in a network namespace of its own, reachable only through the loopback relay', () => {
    expect(dynamo.isolation).toBe('network-namespace');
    // The JVM's own port 8000 is in its namespace: no socket of the host namespace listens for it.
    const ours = socketInodesOf(process.pid);
    expect(listeningSockets().filter((socket) => ours.has(socket.inode) && socket.port === 8000)).toEqual([]);
  });
});
