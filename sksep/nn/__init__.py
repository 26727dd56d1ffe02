"""The torch modules under the neural separators.

* :mod:`sksep.nn.recurrent`: the BLSTM body, the embedding and mask-inference heads and
  the Chimera network (also the deep-clustering network);
* :mod:`sksep.nn.gmm`: the class-conditional Gaussian layer and its network;
* :mod:`sksep.nn.context_cnn`: the context CNN (and its DNN baseline);
* :mod:`sksep.nn.unet`: the U-Net and the UH-net hybrid.

Every module takes what it needs (sizes, standardisation) in its constructor; the
separators in :mod:`sksep.separators` build them.
"""
