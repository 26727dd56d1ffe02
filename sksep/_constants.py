"""Constants that several modules share, in a module that imports nothing (the command
line reads them before it imports scikit-learn or torch)."""

__all__ = ["DEFAULT_MODEL", "MIR1K_MODEL", "HIGH_BAND_RULES", "HEADS", "TRANSFORMERS",
           "SEPARATORS"]

#: The model :func:`sksep.separate` and ``sksep separate`` use by default: the shipped
#: model best on real songs. Left out one at a time, the MUSDB excerpts gained +2.05 ±
#: 1.79 dB vocals SI-SDRi from the MUSDB stems in training (``benchmarks/musdb_transfer.py``),
#: and on five MUSDB songs kept aside by the project it beat ``chimera-mir1k`` on every one
#: (vocals 7.44 against 5.76 dB on average, accompaniment 4.85 against 3.82).
DEFAULT_MODEL = "chimera-mir1k-musdb"

#: The shipped model best on MIR-1K's karaoke clips (validation songs of its training
#: singers): Park et al.'s stacked hourglass at 8 kHz, 9.43 dB vocals SI-SDRi there
#: against ``chimera-mir1k``'s 9.17 (``benchmarks/conv_campaign.py``).
MIR1K_MODEL = "hourglass-mir1k"

#: How bins above a model's Nyquist frequency get their masks when a song is separated
#: at a higher rate (:mod:`sksep._fullband`): ``"top"`` copies the top band's mask,
#: ``"octave"`` the mean of the masks of the model's top octave.
HIGH_BAND_RULES = ("top", "octave")

#: The prediction heads of a Chimera model (``ChimeraSeparator(head=...)``, ``--head``):
#: the mask-inference head's soft masks, or K-means on the deep-clustering embeddings.
HEADS = ("mi", "dc")

#: The one table of public estimator classes: name -> the module that defines it. The
#: package root's names, the classes model files may hold (:mod:`sksep._persistence`),
#: :mod:`sksep.separators` and ``sksep train`` all read it: a new estimator is one line
#: here, its module and its tests (``tests/fast_settings.py``).
TRANSFORMERS = {
    "MelFeatures": "sksep._features",
    "IdealBinaryMask": "sksep._masks",
    "WienerMask": "sksep._masks",
    "PhaseSensitiveMask": "sksep._masks",
}
SEPARATORS = {
    "OracleMaskSeparator": "sksep.separators.oracle",
    "DeepClusteringSeparator": "sksep.separators.chimera",
    "ChimeraSeparator": "sksep.separators.chimera",
    "ClassConditionalSeparator": "sksep.separators.class_conditional",
    "ConvMaskSeparator": "sksep.separators.conv",
    "UNetSeparator": "sksep.separators.unet",
}
