"""The torch modules under the neural separators.

* :mod:`sksep.nn.recurrent`: the BLSTM body, the embedding and mask-inference heads and
  the Chimera network (also the deep-clustering network);
* :mod:`sksep.nn.gmm`: the class-conditional Gaussian layer and its network;
* :mod:`sksep.nn.context_cnn`: the context CNN (and its DNN baseline);
* :mod:`sksep.nn.unet`: the U-Net and the UH-net hybrid;
* :mod:`sksep.nn.hourglass`: the stacked hourglass network (Park et al. 2018);
* :mod:`sksep.nn.standardize`: the feature standardisation they all start with.

Every network takes its sizes in its constructor and is a
:class:`~sksep.nn.standardize.StandardizedNetwork`: the separator that trains it hands it
the statistics of its training features with ``set_feature_statistics``. The
separators in :mod:`sksep.separators` build them.
"""
