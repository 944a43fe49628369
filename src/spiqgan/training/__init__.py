"""Training the generator: the loop (:mod:`~spiqgan.training.loop`), the likelihood
(:mod:`~spiqgan.training.likelihood`), the adversarial losses (:mod:`~spiqgan.training.losses`) and critic
(:mod:`~spiqgan.training.critic`), and gradients through measurement (:mod:`~spiqgan.training.estimators`)."""
