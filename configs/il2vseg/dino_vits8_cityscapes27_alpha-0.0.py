# IL2Vseg Fig. 5: training alpha of Eq. 13 = 0.0 (0.5 is
# ./dino_vits8_cityscapes27.py; 0 = no low-level cue, 1 = the cue alone in
# F_f). The paper plots the sweep without naming its dataset: Cityscapes,
# as its Table 4 ablation.
_base_ = './dino_vits8_cityscapes27.py'
model = dict(decode_head=dict(alpha=0.0))
