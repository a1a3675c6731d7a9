// Azure ABAC role assignment condition that limits a Storage Blob Data Contributor assignment to one
// container and one blob path prefix. Built from two of Microsoft's examples, word for word apart from
// the values (azure-docs articles/storage/blobs/storage-auth-abac-examples.md):
//  - "Example: Read, write, or delete blobs in named containers", variant "Storage Blob Data
//    Contributor": the four data actions the role has that touch blobs (delete, read, write,
//    add/action) are each allowed only when the resource matches;
//  - "Example: Read or list blobs in named containers with a path", variant "Storage Blob Data
//    Reader, Storage Blob Data Contributor": read is split from List blobs (SubOperation Blob.List),
//    the path is matched with StringStartsWith on the blob path, and listing is matched on the
//    request's prefix in a second condition joined with AND.
// The role's fifth data action, blobs/move/action, exists only on accounts with a hierarchical
// namespace, which keyless never enables (components/blob-storage.ts); Microsoft's Contributor
// example leaves it out for the same reason. String operators are case-sensitive
// (role-based-access-control/conditions-format.md), so the prefix is the machine name as written.

const blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
const containerName = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]";
const blobPath = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]";
const listPrefix = "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]";

/** A single-quoted string literal of the condition language; the values used here never hold a quote. */
function literal(s: string): string {
  if (/['\\\u0000-\u001f]/.test(s)) throw new Error(`blob condition value ${JSON.stringify(s)} holds a quote, backslash or control character`);
  return `'${s}'`;
}

/**
 * Condition (conditionVersion "2.0") that lets a Storage Blob Data Contributor assignment read, write,
 * create and delete blobs only under `<prefix>` in `container`, and list only with a prefix under it.
 * `prefix` ends with "/" (e.g. "arc-lnx-01/").
 */
export function blobPrefixCondition(container: string, prefix: string): string {
  if (!prefix.endsWith("/")) throw new Error(`blob path prefix ${JSON.stringify(prefix)} must end with /`);
  const c = literal(container);
  const p = literal(prefix);
  return [
    "(",
    " (",
    `  !(ActionMatches{'${blobs}/delete'})`,
    "  AND",
    `  !(ActionMatches{'${blobs}/read'} AND NOT SubOperationMatches{'Blob.List'})`,
    "  AND",
    `  !(ActionMatches{'${blobs}/write'})`,
    "  AND",
    `  !(ActionMatches{'${blobs}/add/action'})`,
    " )",
    " OR",
    " (",
    `  ${containerName} StringEquals ${c}`,
    "  AND",
    `  ${blobPath} StringStartsWith ${p}`,
    " )",
    ")",
    "AND",
    "(",
    " (",
    `  !(ActionMatches{'${blobs}/read'} AND SubOperationMatches{'Blob.List'})`,
    " )",
    " OR",
    " (",
    `  ${containerName} StringEquals ${c}`,
    "  AND",
    `  ${listPrefix} StringStartsWith ${p}`,
    " )",
    ")",
  ].join("\n");
}
