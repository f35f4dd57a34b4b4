package dev.dyepack.mark;

/** What a served model's answers are: per query a row of C probabilities, or of C logits. */
public enum AnswerKind {
    /** Non-negative rows summing to 1; a marked answer has its two largest values swapped. */
    PROBABILITIES,
    /** Unnormalised scores; a marked answer has its two largest scores swapped, so its softmax swaps too. */
    LOGITS
}
