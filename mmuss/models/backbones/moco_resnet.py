# Copyright (c) mmuss contributors. All rights reserved.
from mmengine.logging import print_log
from mmseg.models.backbones import ResNet
from mmseg.registry import MODELS

from mmuss.models.utils.moco_checkpoint import (
    read_moco_checkpoint,
    summarise_dropped_keys,
)


@MODELS.register_module()
class MoCoResNet(ResNet):
    """mmseg ResNet that loads the official MoCo v1/v2 checkpoints.

    `MoCo v2 <https://arxiv.org/abs/2003.04297>`_ (Chen et al., 2020)
    ResNet-50, the self-supervised CNN backbone of STEGO's, SmooSeg's and
    IL2Vseg's ResNet-50 rows (IL2Vseg Table 1: "MoCoV2 ResNet50"). The
    network is mmseg's ``ResNet`` unchanged (``style='pytorch'``: the
    torchvision layout MoCo trains); only the weight loading differs.

    Give the official file (``moco_v2_800ep_pretrain.pth.tar``, a MoCo
    training checkpoint) as ``init_cfg=dict(type='Pretrained',
    checkpoint=PATH_OR_URL)``: it is read with ``weights_only=True``, the
    query encoder's keys are converted at load time (see
    :mod:`mmuss.models.utils.moco_checkpoint`), and the projection head, the
    key encoder and the queue are dropped and reported. Missing or
    unexpected keys are an error (``strict_keys=True``) or a warning.
    Files written by ``tools/model_converters/moco2mmseg.py`` need no
    conversion: load them into mmseg's plain ``ResNet``.

    Dilating the last stages (``strides=(1, 2, 1, 1)``,
    ``dilations=(1, 1, 2, 4)``, output stride 8) keeps every weight shape, so
    the same checkpoint loads.

    Args:
        depth (int): ResNet depth. Defaults to 50 (MoCo's releases).
        strict_keys (bool): Raise on missing or unexpected checkpoint keys
            instead of warning. Defaults to True.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=PATH_OR_URL)`` loads a MoCo checkpoint; anything else
            is mmseg's.
        **kwargs: Other arguments of mmseg's ``ResNet``.
    """

    def __init__(
        self,
        depth: int = 50,
        strict_keys: bool = True,
        init_cfg: dict | None = None,
        **kwargs,
    ) -> None:
        self.pretrained_checkpoint = None
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            self.pretrained_checkpoint = init_cfg['checkpoint']
        super().__init__(depth=depth, init_cfg=init_cfg, **kwargs)
        self.strict_keys = strict_keys

    def train(self, mode: bool = True) -> 'MoCoResNet':
        """Set the mode (BN kept in eval with ``norm_eval``); return self."""
        super().train(mode)
        return self

    def init_weights(self) -> None:
        """Load the configured MoCo checkpoint, or initialise as mmseg."""
        if self.pretrained_checkpoint is None:
            super().init_weights()
            return
        self.load_moco(self.pretrained_checkpoint)
        self._is_init = True

    def load_moco(self, checkpoint: str) -> None:
        """Load the query encoder of a MoCo checkpoint (path or URL).

        Args:
            checkpoint (str): Local path or HTTP(S) URL.

        Raises:
            ValueError: If the file is not a MoCo checkpoint (no
                ``state_dict`` or no ``encoder_q`` keys), naming it.
            KeyError: With ``strict_keys``, when keys are missing or
                unexpected; the message lists them.
            RuntimeError: When shapes differ (another depth).
        """
        backbone, dropped, _ = read_moco_checkpoint(checkpoint)
        incompatible = self.load_state_dict(backbone, strict=False)
        missing = list(incompatible.missing_keys)
        unexpected = list(incompatible.unexpected_keys)
        dropped_summary = summarise_dropped_keys(dropped)
        if not missing and not unexpected:
            print_log(
                f'Loaded the MoCo query encoder of {checkpoint} '
                f'({len(backbone)} tensors); dropped {dropped_summary}',
                logger='current',
            )
            return
        report = (
            f'MoCo checkpoint {checkpoint} does not match '
            f'{type(self).__name__}(depth={self.depth}): '
            f'missing keys {missing}, unexpected keys {unexpected}'
        )
        if self.strict_keys:
            raise KeyError(report)
        print_log(report, logger='current', level=30)
