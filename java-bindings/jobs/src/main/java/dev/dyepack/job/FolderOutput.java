package dev.dyepack.job;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.ImageFolder;

/**
 * How {@code poison} writes an image folder. By default the output is the input folder itself, with only
 * the stamped images changed: unchanged images are the input's bytes under their own names (a streamed
 * copy, or a link when asked), stamped ones are written in their own format and form (a JPEG at its own
 * quantisation tables, a PNG at its bit depth and colour type, metadata kept) under their own names. Every
 * written image is decoded again and compared with the pixels meant for it; when the pooled share of the
 * triggers' energy that survived is below {@link #MIN_TRIGGER_ENERGY} the job refuses, unless
 * {@code allowWeakTrigger}, when it warns.
 *
 * @param link             how unchanged images are copied
 * @param poisonedAsPng    write stamped images as PNG (lossless; a JPEG's name then ends in {@code .png}), the
 *                         behaviour before formats were kept
 * @param jpegQuality      1..100: stamped JPEGs at the IJG tables of that quality; 0: at the source's own
 *                         tables (for files written by libjpeg, PIL or ImageIO these are the IJG tables at the
 *                         quality estimated from them)
 * @param allowWeakTrigger warn instead of refusing when less than {@link #MIN_TRIGGER_ENERGY} survives
 */
public record FolderOutput(ImageFolder.LinkMode link, boolean poisonedAsPng, int jpegQuality,
        boolean allowWeakTrigger) {
    /**
     * The least pooled share of the triggers' L2 energy that must survive encoding (see
     * {@link dev.dyepack.image.TriggerSurvival}): half the energy, about 71% of the amplitude. Below it a
     * JPEG has erased much of what a network would learn; docs/benchmarks.md shows which triggers and
     * strengths clear it at which JPEG qualities.
     */
    public static final double MIN_TRIGGER_ENERGY = 0.5;

    /** Copies, formats kept at the source's quality, weak triggers refused. */
    public static final FolderOutput DEFAULT = new FolderOutput(ImageFolder.LinkMode.COPY, false, 0, false);

    /**
     * @throws InvalidArgumentException if link is null or jpegQuality is outside 0..100
     */
    public FolderOutput {
        if (link == null) {
            throw InvalidArgumentException.of("link", null, "copy, hard or reflink");
        }
        if (jpegQuality < 0 || jpegQuality > 100) {
            throw InvalidArgumentException.of("jpegQuality", jpegQuality, "1..100, or 0 for the source's quality");
        }
    }
}
