// One matcher for many literal strings (Aho-Corasick): finds every occurrence of any pattern in one
// pass over the text, so hiding N secrets in a plan of M characters costs O(M + matches), not
// O(M x N) as testing each secret with `includes` does. Used for secrets (redaction) and for values
// only Azure computes (unknown at preview).

interface Node {
  readonly next: Map<string, number>;
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
      for (const ch of p) {
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

  private step(n: number, ch: string): number {
    while (n !== 0 && !this.nodes[n].next.has(ch)) n = this.nodes[n].fail;
    return this.nodes[n].next.get(ch) ?? 0;
  }

  /** Whether any pattern occurs in text. */
  test(text: string): boolean {
    if (this.size === 0) return false;
    let n = 0;
    for (const ch of text) {
      n = this.step(n, ch);
      if (this.nodes[n].out > 0) return true;
    }
    return false;
  }

  /** text with every occurrence of a pattern (longest at each end position, overlaps merged) replaced by `by`. */
  replace(text: string, by: string): string {
    if (this.size === 0) return text;
    const chars = [...text];
    // Mark covered character ranges, then rebuild: linear in the text.
    const coverEnd: number[] = [];
    let n = 0;
    let any = false;
    for (let i = 0; i < chars.length; i++) {
      n = this.step(n, chars[i]);
      const len = this.nodes[n].out;
      if (len > 0) {
        any = true;
        const start = i - len + 1;
        coverEnd[start] = Math.max(coverEnd[start] ?? -1, i);
      }
    }
    if (!any) return text;
    let out = "";
    let until = -1;
    for (let i = 0; i < chars.length; i++) {
      if (coverEnd[i] !== undefined && coverEnd[i] > until) {
        if (i > until) out += by;
        until = coverEnd[i];
      }
      if (i > until) out += chars[i];
    }
    return out;
  }
}
