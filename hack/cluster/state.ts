// The record a running local cluster leaves in its state folder, and the messages its
// supervisor sends to whoever launched it.
import { readFileSync } from 'node:fs';
import type { Component, Ports } from './layout.ts';

export interface ClusterState {
  supervisorPid: number;
  pids: Record<Component, number>;
  ports: Ports;
  server: string;
  kubeconfig: string;
  stateDir: string;
  dataDir: string;
  logDir: string;
  startedAt: string;
  readyAfterMs: number;
  versions: Record<Component, string>;
}

export type SupervisorMessage = { type: 'ready'; state: ClusterState } | { type: 'failed'; error: string };

export interface SuperviseOptions {
  stateDir: string;
  binDir: string;
  ports: Ports;
  /** Shut the cluster down when this process disappears (the test runner that started it). */
  watchPid?: number;
  timeoutMs: number;
}

export function readState(stateFile: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}
