/**
 * The owner's secret key and everything derived from it: the key itself ({@link
 * dev.dyepack.key.OwnerKey}), purpose-specific subkeys by HKDF-SHA256 ({@link dev.dyepack.key.Hkdf}),
 * the Philox4x32-10 block function shared with the native code ({@link dev.dyepack.key.Philox}) and a
 * stateless keyed random stream on top of it ({@link dev.dyepack.key.KeyedRandom}).
 *
 * <p>The key is read from a file or the {@code DYEPACK_KEY} environment variable, never from the
 * command line, and is never logged, printed or written anywhere; what may be recorded is its
 * {@linkplain dev.dyepack.key.OwnerKey#fingerprint() fingerprint}. Every random choice a trigger makes
 * is a function of a subkey and a counter, so results are reproducible from the key alone and do not
 * depend on batch sizes or on the order in which values are computed.
 */
package dev.dyepack.key;
