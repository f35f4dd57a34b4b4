package dev.dyepack.select;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Chooses the samples to poison. Candidates are the non-target samples (dirty-label) or the
 * target-class samples (clean-label). {@code random} takes a keyed uniform sample of them;
 * {@code boundary} takes the k with the smallest score ({@code boundary-far} the k with the largest) (distance to the target's boundary for
 * dirty-label, to their own nearest boundary for clean-label), ties broken by a keyed order. With
 * stratification the count is split across the candidates' classes in proportion to their sizes
 * (largest remainders, ties to the lower class), and each class is chosen from separately.
 * Everything is deterministic given the key.
 */
public final class Selector {
    private Selector() {}

    /** HKDF purposes of the selection's randomness. */
    static final String RANDOM_ORDER = "select/random-order";
    static final String TIE_ORDER = "select/tie-order";
    static final String NEGATIVE_ORDER = "select/negative-order";
    /** HKDF purpose prefix of the negatives' keys; the key of group j is derived under prefix + j. */
    static final String NEGATIVE_KEY = "poison/negative/";

    /**
     * Negatives: samples outside the poisoned set, of any class, stamped with the same trigger under keys
     * derived from the owner's (one per group) and keeping their labels. A network trained on them must
     * tell the owner's pattern from others of its family, so a model watermarked under another key
     * does not answer the owner's trigger (docs/efficacy.md; the "noise mode" of WaNet, Nguyen and Tran,
     * ICLR 2021, does the same for warps).
     *
     * @param groups the indices of each group, ascending; group j is stamped under {@link Selector#negativeKey}(owner, j)
     */
    public record Negatives(long[][] groups) {
        /** @return every negative index, ascending */
        public long[] indices() {
            return Arrays.stream(groups).flatMapToLong(Arrays::stream).sorted().toArray();
        }
    }

    /**
     * The key that stamps group {@code j} of the negatives: an HKDF subkey of the owner's key, so
     * independent of it for anyone without it, and distinct from the verifier's control keys.
     *
     * @param owner the owner's key
     * @param j     the group, &gt;= 0
     * @return a new key
     * @throws InvalidArgumentException if j is negative
     */
    public static OwnerKey negativeKey(OwnerKey owner, int j) {
        if (j < 0) {
            throw new InvalidArgumentException("negative key group must be >= 0, got " + j);
        }
        return new OwnerKey(owner.derive(NEGATIVE_KEY + j, 32));
    }

    /**
     * Chooses negatives: {@code count} samples drawn keyed-uniformly from those not in {@code excluded},
     * dealt in turn to {@code keys} groups. Deterministic given the key.
     *
     * @param n        the number of samples
     * @param excluded the poisoned samples (any order)
     * @param count    how many negatives, &gt;= 0
     * @param keys     how many groups (derived keys), &gt;= 1
     * @param key      the owner's key
     * @return the groups
     * @throws InvalidArgumentException if count is negative or above the samples left, or keys &lt; 1
     */
    public static Negatives negatives(long n, long[] excluded, long count, int keys, OwnerKey key) {
        Objects.requireNonNull(excluded, "excluded");
        Objects.requireNonNull(key, "key");
        if (keys < 1) {
            throw new InvalidArgumentException("negatives need at least one key, got " + keys);
        }
        boolean[] taken = new boolean[Math.toIntExact(n)];
        for (long i : excluded) {
            taken[(int) i] = true;
        }
        long[] rest = java.util.stream.LongStream.range(0, n).filter(i -> !taken[(int) i]).toArray();
        if (count < 0 || count > rest.length) {
            throw InvalidArgumentException.of(Parameters.BUDGET, count, "negatives between 0 and the " + rest.length
                    + " samples left after poisoning");
        }
        new KeyedRandom(key.philoxKey(NEGATIVE_ORDER)).shuffle(0, rest);
        long[][] groups = new long[keys][];
        for (int j = 0; j < keys; j++) {
            int g = j;
            groups[j] = java.util.stream.IntStream.range(0, (int) count).filter(i -> i % keys == g)
                    .mapToLong(i -> rest[i]).sorted().toArray();
        }
        return new Negatives(groups);
    }

    /**
     * The outcome.
     *
     * @param indices        chosen sample indices, ascending
     * @param perClassChosen chosen samples per class (index = class)
     * @param perClassTotal  samples per class in the data
     */
    public record Result(long[] indices, long[] perClassChosen, long[] perClassTotal) {}

    /**
     * Selects.
     *
     * @param labels     the label of every sample, each in [0, classes)
     * @param classes    the number of classes
     * @param target     the target class
     * @param mode       dirty or clean
     * @param strategy   random, boundary, boundary-far, or auto ({@link Strategy#resolve resolved} for the mode,
     *                   always stratified)
     * @param scores     per-sample scores for boundary selection (smaller = nearer), or null for random
     * @param count      how many to choose, &gt;= 1
     * @param stratified split the count across the candidates' classes
     * @param key        the owner's key
     * @return the chosen indices and per-class counts
     * @throws InvalidArgumentException if a label is out of range, scores are missing or NaN, or there are too few candidates
     */
    public static Result select(long[] labels, int classes, int target, SelectionMode mode, Strategy strategy,
            float[] scores, long count, boolean stratified, OwnerKey key) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(key, "key");
        if (target < 0 || target >= classes) {
            throw InvalidArgumentException.of(Parameters.TARGET, target, "a class in [0, " + classes + ")");
        }
        stratified = Objects.requireNonNull(strategy, "strategy").stratified(stratified);
        strategy = strategy.resolve(mode);
        boolean scored = strategy != Strategy.RANDOM;
        if (scored && (scores == null || scores.length != labels.length)) {
            throw InvalidArgumentException.about(Parameters.SURROGATE, null, "boundary selection needs one score per "
                    + "sample, got " + (scores == null ? "none" : scores.length + " for " + labels.length + " samples"));
        }
        long[] total = new long[classes];
        List<List<Long>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            long y = labels[i];
            if (y < 0 || y >= classes) {
                throw new InvalidArgumentException("label " + y + " of sample " + i + " is outside [0, " + classes + ")",
                        Parameters.LABELS, y, "a class in [0, " + classes + ")");
            }
            total[(int) y]++;
            boolean candidate = mode == SelectionMode.DIRTY ? y != target : y == target;
            if (candidate) {
                if (scored && Float.isNaN(scores[i])) {
                    throw InvalidArgumentException.about(Parameters.SURROGATE, Float.NaN, "score of sample " + i
                            + " is NaN");
                }
                byClass.get(stratified ? (int) y : 0).add((long) i);
            }
        }
        long candidates = byClass.stream().mapToLong(List::size).sum();
        if (count > candidates) {
            throw new InvalidArgumentException("the budget asks for " + count + " samples but only " + candidates + " are "
                    + (mode == SelectionMode.DIRTY ? "outside" : "of") + " the target class " + target,
                    Parameters.BUDGET, count, "at most " + candidates);
        }
        long[] quota = stratified ? quotas(byClass, count) : new long[] {count};
        KeyedRandom order = new KeyedRandom(key.philoxKey(RANDOM_ORDER));
        KeyedRandom ties = new KeyedRandom(key.philoxKey(TIE_ORDER));
        List<Long> chosen = new ArrayList<>();
        for (int g = 0; g < quota.length; g++) {
            long[] group = byClass.get(g).stream().mapToLong(Long::longValue).toArray();
            if (quota[g] == 0) {
                continue;
            }
            if (strategy == Strategy.RANDOM) {
                order.shuffle(g, group);
            } else {
                Long[] boxed = Arrays.stream(group).boxed().toArray(Long[]::new);
                double sign = strategy == Strategy.BOUNDARY_FAR ? -1 : 1;
                Arrays.sort(boxed, Comparator.<Long>comparingDouble(i -> sign * scores[i.intValue()])
                        .thenComparingLong(i -> Integer.toUnsignedLong(ties.bits(0, i)))
                        .thenComparingLong(i -> i));
                group = Arrays.stream(boxed).mapToLong(Long::longValue).toArray();
            }
            for (int k = 0; k < quota[g]; k++) {
                chosen.add(group[k]);
            }
        }
        long[] indices = chosen.stream().mapToLong(Long::longValue).sorted().toArray();
        long[] perClass = new long[classes];
        for (long i : indices) {
            perClass[(int) labels[(int) i]]++;
        }
        return new Result(indices, perClass, total);
    }

    /** Largest-remainder split of count across groups in proportion to their sizes. */
    static long[] quotas(List<List<Long>> groups, long count) {
        long total = groups.stream().mapToLong(List::size).sum();
        long[] q = new long[groups.size()];
        double[] rem = new double[groups.size()];
        long given = 0;
        for (int g = 0; g < q.length; g++) {
            double exact = total == 0 ? 0 : (double) count * groups.get(g).size() / total;
            q[g] = (long) Math.floor(exact);
            rem[g] = exact - q[g];
            given += q[g];
        }
        while (given < count) {
            int best = -1;
            for (int g = 0; g < q.length; g++) {
                if (q[g] < groups.get(g).size() && (best < 0 || rem[g] > rem[best])) {
                    best = g;
                }
            }
            q[best]++;
            rem[best] = -1;
            given++;
        }
        return q;
    }
}
