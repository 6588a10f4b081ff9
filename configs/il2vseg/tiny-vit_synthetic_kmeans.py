# IL2Vseg on the embedded demo, evaluated the way the paper's "Evaluation"
# paragraph reads: a cosine (minibatch) k-means on the learned codes (the
# demo's cluster probe) instead of the global centres' argmax of its
# "Implementation Details". Training is unchanged.
_base_ = './tiny-vit_synthetic.py'
model = dict(cluster_source='probe')
