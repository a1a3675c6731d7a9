// One value per distinct combination of inputs, built once and handed to every caller that passes the
// same inputs (the same Output objects, the same strings). An Output costs a dozen promises and
// closures for as long as the program runs; a fleet of 500 servers that each built their own copy of
// the same derived value (a role definition id from one container's id, the onboarding parameters
// from the same tenant, subscription and group) kept thousands of identical ones alive at once.
// Sharing an Output between resources changes nothing they register: the same value, the same
// dependencies, the same secretness and unknown-ness.

const isObject = (k: unknown): k is object => (typeof k === "object" && k !== null) || typeof k === "function";

/** A trie over the key parts: objects (Outputs) weakly, so a memo never keeps a finished run's Outputs alive. */
class Node<T> {
  private objects?: WeakMap<object, Node<T>>;
  private primitives?: Map<unknown, Node<T>>;
  has = false;
  value?: T;

  child(key: unknown): Node<T> {
    if (isObject(key)) {
      this.objects ??= new WeakMap();
      let next = this.objects.get(key);
      if (!next) this.objects.set(key, (next = new Node<T>()));
      return next;
    }
    this.primitives ??= new Map();
    let next = this.primitives.get(key);
    if (!next) this.primitives.set(key, (next = new Node<T>()));
    return next;
  }
}

/**
 * A memo keyed by a list of inputs compared by identity (SameValueZero for strings and other
 * primitives). Keys of primitives only are never memoized: nothing would let their value go, and a
 * later run in the same process (the tests plan many stacks) must not get an Output of an earlier one.
 */
export class SharedByInputs<T> {
  private readonly root = new Node<T>();

  /** The value made for these keys, made by `make` the first time they are seen. */
  get(keys: readonly unknown[], make: () => T): T {
    if (!keys.some(isObject)) return make();
    let node = this.root;
    for (const k of keys) node = node.child(k);
    if (!node.has) {
      node.value = make();
      node.has = true;
    }
    return node.value as T;
  }
}
