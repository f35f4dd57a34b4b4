package dev.dyepack.trigger;

import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * The engine's tests see no data module, so image patterns are decoded here for 8-bit RGB(A) test
 * pictures only (the ones {@link FamilyReference} writes): colour values as stored (Rec. 601 luma for one
 * channel), alpha / 255. The
 * project's codec ({@code dev.dyepack.image.Images}) is tested on its own in the data module.
 */
public final class TestPatternDecoder implements PatternImageDecoder {
    /** Made by the service loader. */
    public TestPatternDecoder() {}

    @Override
    public ImagePattern decode(Path file, int channels, Layout layout) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
        if (img == null) {
            throw new InvalidInputException(file + ": not a picture");
        }
        int h = img.getHeight();
        int w = img.getWidth();
        boolean hasAlpha = img.getColorModel().hasAlpha();
        float[] values = new float[channels * h * w];
        float[] alpha = hasAlpha ? new float[h * w] : null;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                int[] rgb = {(argb >>> 16) & 0xff, (argb >>> 8) & 0xff, argb & 0xff};
                if (channels == 1) {
                    // Rec. 601 luma in float, as the data module's codec documents for colour pictures.
                    values[(int) layout.offset(0, y, x, 1, h, w)] = rgb[0] == rgb[1] && rgb[1] == rgb[2] ? rgb[0]
                            : 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
                } else {
                    for (int c = 0; c < channels; c++) {
                        values[(int) layout.offset(c, y, x, channels, h, w)] = rgb[c];
                    }
                }
                if (alpha != null) {
                    alpha[y * w + x] = ((argb >>> 24) & 0xff) / 255f;
                }
            }
        }
        return new ImagePattern(values, alpha, channels, h, w, layout);
    }
}
