"""Classical reference models of spike windows, on the same footing as the quantum ones.

================  ==================================================  ===================
``--model``       model                                               time
================  ==================================================  ===================
``bernoulli``     independent Bernoulli per neuron and time step      per step
``ising``         pairwise maximum entropy (Schneidman et al. 2006)   static
``kpairwise``     K-pairwise maximum entropy (Tkačik et al. 2014)     static
``rbm``           restricted Boltzmann machine (Köster et al. 2014)   per window (exact)
``dg``            dichotomized Gaussian (Macke et al. 2009)           temporal, stimulus-locked
``wgan-mlp``      Wasserstein GAN, MLP generator                      temporal
``wgan-conv``     Wasserstein GAN, convolutional generator            temporal
================  ==================================================  ===================

Each follows the estimator protocol of :mod:`spiqgan.models.base`; the independent,
maximum-entropy and RBM models also give exact log-likelihoods (:class:`~spiqgan.models.base.HasLikelihood`).
Nothing is imported here (the Wasserstein GANs need torch).
"""
