/**
 * The signed record of a poisoning run: {@link dev.dyepack.manifest.Manifest} (its fields and the exact
 * canonical form that is signed), {@link dev.dyepack.manifest.ManifestSigner} (HMAC-SHA256 with a
 * subkey of the owner's key, and verification), {@link dev.dyepack.manifest.ManifestWriter} and
 * {@link dev.dyepack.manifest.ManifestReader} ({@code manifest.json}, written atomically, read
 * strictly), {@link dev.dyepack.manifest.Fingerprints} (SHA-256 of dataset files) and
 * {@link dev.dyepack.manifest.DatasetCheck} (does a dataset match its manifest).
 *
 * <p>A manifest holds the key's fingerprint, never the key. Unusable manifest files raise
 * {@link dev.dyepack.InvalidInputException} naming the file and the field or position; bad parameters
 * raise {@link dev.dyepack.InvalidArgumentException}. Only the JDK is used; JSON is parsed by a small
 * strict parser of this package.
 */
package dev.dyepack.manifest;
