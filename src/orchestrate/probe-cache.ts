import { probeModel, type ProbeReport } from '../model/probe.js';
import type { Llm } from '../ports/llm.js';

const TTL_MS = 24 * 60 * 60 * 1000;

/** Where passing probes are kept between processes (a JSON file in practice). */
export interface ProbeStorage {
  load(): Promise<unknown>;
  save(value: unknown): Promise<void>;
}

/**
 * Remembers passing capability probes per endpoint and model (in memory, and in a file when
 * given one, for a day), so every run checks the model without paying for it every time.
 * Failures are never cached: the next run probes again.
 */
export class ProbeCache {
  private readonly memory = new Map<string, Promise<ProbeReport>>();

  constructor(
    private readonly storage?: ProbeStorage,
    private readonly probe: (llm: Llm) => Promise<ProbeReport> = probeModel,
  ) {}

  /** The probe report for this endpoint and model, from the cache when a passing one is fresh. */
  async check(llm: Llm): Promise<ProbeReport> {
    const key = `${llm.endpoint}|${llm.model}`;
    const cached = this.memory.get(key) ?? (await this.fromFile(key));
    if (cached) return cached;
    const pending = this.probe(llm);
    this.memory.set(key, pending);
    const report = await pending;
    if (!report.ok) {
      this.memory.delete(key);
      return report;
    }
    await this.toFile(key, report);
    return report;
  }

  private async fromFile(key: string): Promise<Promise<ProbeReport> | undefined> {
    if (!this.storage) return undefined;
    const entries = await this.readEntries();
    const entry = entries[key];
    if (!entry || Date.now() - entry.at > TTL_MS) return undefined;
    const report = Promise.resolve(entry.report);
    this.memory.set(key, report);
    return report;
  }

  private async toFile(key: string, report: ProbeReport): Promise<void> {
    if (!this.storage) return;
    const entries = await this.readEntries();
    entries[key] = { at: Date.now(), report };
    await this.storage.save(entries);
  }

  private async readEntries(): Promise<Record<string, { at: number; report: ProbeReport }>> {
    const stored = await this.storage?.load().catch(() => null);
    return (stored ?? {}) as Record<string, { at: number; report: ProbeReport }>;
  }
}
