/**
 * Keyed marks on a prediction API's answers, so that a model cloned from those answers can be proved
 * and traced: {@link dev.dyepack.mark.AnswerMarker} changes a small, keyed share of the answers at
 * queries the served model finds ambiguous and records every marked and control query in a signed,
 * append-only {@link dev.dyepack.mark.MarkLog}; {@link dev.dyepack.mark.MarkProbeSet} and
 * {@link dev.dyepack.mark.MarkVerifier} later test a suspect against that record, client by client.
 */
package dev.dyepack.mark;
