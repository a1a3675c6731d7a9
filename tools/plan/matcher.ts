// One matcher for many literal strings (Aho-Corasick): finds every occurrence of any pattern in one
// pass over the text, so hiding N secrets in a plan of M characters costs O(M + matches), not
// O(M x N) as testing each secret with `includes` does. Used for secrets (redaction) and for values
// only Azure computes (unknown at preview).

// Works on UTF-16 code units: a literal match of code units is a literal match of the string.

interface Node {
  readonly next: Map<number, number>;
  fail: number;
  /** Length of the longest pattern ending here (0: none), following fail links included. */
  out: number;
}

export class Matcher {
  private readonly nodes: Node[] = [{ next: new Map(), fail: 0, out: 0 }];
  readonly size: number;

  constructor(patterns: Iterable<string>) {
    let size = 0;
    for (const p of new Set(patterns)) {
      if (p.length === 0) continue;
      size++;
      let n = 0;
      for (let i = 0; i < p.length; i++) {
        const ch = p.charCodeAt(i);
        let to = this.nodes[n].next.get(ch);
        if (to === undefined) {
          to = this.nodes.length;
          this.nodes.push({ next: new Map(), fail: 0, out: 0 });
          this.nodes[n].next.set(ch, to);
        }
        n = to;
      }
      this.nodes[n].out = Math.max(this.nodes[n].out, p.length);
    }
    this.size = size;
    // Breadth-first: each node's fail link points at the longest proper suffix that is a prefix.
    const queue: number[] = [...this.nodes[0].next.values()];
    for (let qi = 0; qi < queue.length; qi++) {
      const n = queue[qi];
      for (const [ch, to] of this.nodes[n].next) {
        let f = this.nodes[n].fail;
        while (f !== 0 && !this.nodes[f].next.has(ch)) f = this.nodes[f].fail;
        const cand = this.nodes[f].next.get(ch);
        this.nodes[to].fail = cand !== undefined && cand !== to ? cand : 0;
        this.nodes[to].out = Math.max(this.nodes[to].out, this.nodes[this.nodes[to].fail].out);
        queue.push(to);
      }
    }
  }

  private step(n: number, ch: number): number {
    while (n !== 0 && !this.nodes[n].next.has(ch)) n = this.nodes[n].fail;
    return this.nodes[n].next.get(ch) ?? 0;
  }

  /** Whether any pattern occurs in text. */
  test(text: string): boolean {
    return this.firstEnd(text) >= 0;
  }

  /** Index of the last code unit of the first match, or -1. */
  private firstEnd(text: string): number {
    if (this.size === 0) return -1;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      n = this.step(n, text.charCodeAt(i));
      if (this.nodes[n].out > 0) return i;
    }
    return -1;
  }

  /** text with every occurrence of a pattern (longest at each end position, overlaps merged) replaced by `by`. */
  replace(text: string, by: string): string {
    // Most strings hold no secret: one scan, no allocation.
    if (this.firstEnd(text) < 0) return text;
    // Covered ranges [start, end], overlaps merged as they come, then one rebuild.
    const ranges: [number, number][] = [];
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      n = this.step(n, text.charCodeAt(i));
      const len = this.nodes[n].out;
      if (len === 0) continue;
      // Ends only grow, so a new match can only overlap the ranges at the end of the list.
      let start = i - len + 1;
      while (ranges.length > 0 && ranges[ranges.length - 1][1] >= start) start = Math.min(start, (ranges.pop() as [number, number])[0]);
      ranges.push([start, i]);
    }
    let out = "";
    let at = 0;
    for (const [start, end] of ranges) {
      out += text.slice(at, start) + by;
      at = end + 1;
    }
    return out + text.slice(at);
  }
}
