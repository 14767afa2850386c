import type { ConsumerState, DeadLetter, FeedStore } from "./feed-types.js";
import type { JournalEntry } from "./types.js";

interface Consumer {
  cursor: number;
  owner: string | null;
  expiresAt: number | null;
  updatedAt: number;
}

/**
 * The memory store's feed: every journal line (JSON text) in `seq` order (seq n sits at index n - 1,
 * as the store numbers lines from 1 without gaps), consumers and dead letters in maps.
 */
export function createMemoryFeed(lines: readonly string[], now: () => number): FeedStore {
  const consumers = new Map<string, Consumer>();
  const dead = new Map<number, DeadLetter>();
  let deadId = 0;
  const live = (c: Consumer) => c.owner !== null && c.expiresAt !== null && c.expiresAt > now();

  return {
    async readJournal(after, limit) {
      return lines
        .slice(Math.max(0, after), Math.max(0, after) + limit)
        .map((line) => JSON.parse(line) as JournalEntry);
    },

    async lastPosition() {
      return lines.length;
    },

    async claimConsumer(name, owner, ttlMs, from) {
      let consumer = consumers.get(name);
      if (!consumer) {
        consumer = {
          cursor: from === "now" ? lines.length : 0,
          owner: null,
          expiresAt: null,
          updatedAt: now(),
        };
        consumers.set(name, consumer);
      }
      if (live(consumer) && consumer.owner !== owner) return undefined;
      consumer.owner = owner;
      consumer.expiresAt = now() + ttlMs;
      consumer.updatedAt = now();
      return { cursor: consumer.cursor };
    },

    async ackConsumer(name, owner, cursor, ttlMs) {
      const consumer = consumers.get(name);
      if (!consumer || consumer.owner !== owner || !live(consumer)) return false;
      consumer.cursor = Math.max(consumer.cursor, cursor);
      consumer.expiresAt = now() + ttlMs;
      consumer.updatedAt = now();
      return true;
    },

    async releaseConsumer(name, owner) {
      const consumer = consumers.get(name);
      if (consumer?.owner === owner) {
        consumer.owner = null;
        consumer.expiresAt = null;
      }
    },

    async consumers(): Promise<ConsumerState[]> {
      return [...consumers.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, c]) => ({
          name,
          cursor: c.cursor,
          owner: c.owner,
          leaseExpiresAt: c.expiresAt === null ? null : new Date(c.expiresAt).toISOString(),
          updatedAt: new Date(c.updatedAt).toISOString(),
        }));
    },

    async addDeadLetter(letter) {
      for (const existing of dead.values()) {
        if (existing.consumer === letter.consumer && existing.seq === letter.seq) return existing;
      }
      deadId += 1;
      const kept: DeadLetter = { ...letter, id: deadId };
      dead.set(deadId, kept);
      return { ...kept };
    },

    async deadLetters(consumer) {
      return [...dead.values()]
        .filter((letter) => consumer === undefined || letter.consumer === consumer)
        .map((letter) => ({ ...letter }));
    },

    async removeDeadLetter(id) {
      return dead.delete(id);
    },
  };
}
