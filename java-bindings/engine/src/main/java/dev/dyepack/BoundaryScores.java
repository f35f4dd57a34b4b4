package dev.dyepack;

/**
 * Per-sample results of decision-boundary scoring ({@link Engine#scoreBoundary}). Arrays are indexed
 * by sample; the record does not copy them (it is the caller's to keep or share).
 *
 * @param predicted      the predicted class (argmax of the logits, ties to the lowest index)
 * @param runnerUp       the second class (ties to the lowest index)
 * @param margin         logit margin z_y - z_r
 * @param distance       exact L2 distance to the nearest decision boundary (+inf when no boundary can be crossed)
 * @param targetDistance distance to the target's boundary (0 if predicted as the target), or null without a target
 * @param target         the target class, or -1
 */
public record BoundaryScores(int[] predicted, int[] runnerUp, float[] margin, float[] distance, float[] targetDistance,
        int target) {

    /** @return the number of samples scored */
    public int size() {
        return predicted.length;
    }
}
