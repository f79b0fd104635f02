"""The units' ranking (打分排队, 季评比): composite scores per level, tiers, stars, digests.

:mod:`~models.rankings.tables` holds the digests and entries and the union's policy,
:mod:`~models.rankings.compute` the formula, :mod:`~models.rankings.digests` computing,
reading and queuing them, :mod:`~models.rankings.publishing` a quarter's publication.
The scores themselves come from the features that own the data (``Module.scores``).
"""
