# IL2Vseg on COCO-Stuff-27 evaluated the way the paper's "Evaluation"
# paragraph reads: a cosine (minibatch) k-means on the learned codes (the
# segmentor's cluster probe, K = 27) instead of the global centres of its
# "Implementation Details". Training is unchanged.
_base_ = './dino_vits8_cocostuff27.py'
model = dict(cluster_source='probe')
