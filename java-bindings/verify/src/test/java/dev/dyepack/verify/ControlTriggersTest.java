package dev.dyepack.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.trigger.TriggerSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A keyless trigger's controls vary what the owner fixed, never repeat the owner's trigger. */
class ControlTriggersTest {
    private static List<String> variants(String spec, int count) {
        return ControlTriggers.variants(TriggerSpec.parse(spec), count).stream().map(TriggerSpec::toString).toList();
    }

    @Test
    void aPatchMovesToTheOtherCornersThenTheCentre() {
        assertEquals(List.of("patch:size=3,pos=tl,value=255", "patch:size=3,pos=tr,value=255",
                "patch:size=3,pos=bl,value=255"), variants("patch:size=3,pos=br,value=255", 3));
        assertEquals(List.of("patch:size=3,pos=tr,value=255", "patch:size=3,pos=bl,value=255",
                "patch:size=3,pos=br,value=255", "patch:size=3,pos=center,value=255"),
                variants("patch:size=3,pos=tl,value=255", 8), "four places other than the owner's, no more");
        assertEquals(List.of("patch:size=4,pos=tl,pattern=checker,value=200,low=10"),
                variants("patch:size=4,pos=at,y=5,x=6,pattern=checker,value=200,low=10", 1));
    }

    @Test
    void aSignalTurnsToTheOtherAxisAndOtherFrequencies() {
        assertEquals(List.of("sig:delta=20,freq=6,axis=rows", "sig:delta=20,freq=12,axis=cols",
                "sig:delta=20,freq=12,axis=rows"), variants("sig:delta=20,freq=6", 3));
        assertEquals(List.of("lowfreq:amp=8,freqs=2x3+3x2,space=rgb", "lowfreq:amp=8,freqs=3x4+4x3,space=rgb"),
                variants("lowfreq", 2));
    }

    @Test
    void keyedTriggersAndFamiliesWithoutVariantsHaveNone() {
        assertTrue(variants("blend:alpha=0.2,pattern=noise", 3).isEmpty(), "keyed: controls are control keys");
        assertTrue(variants("patch:size=3,pos=random", 3).isEmpty());
        assertTrue(variants("tokens:ids=5+6", 3).isEmpty());
        assertTrue(variants("patch:size=3,pos=br", 0).isEmpty());
    }
}
