# Copyright (c) mmuss contributors. All rights reserved.
"""tools/demo.py on the demo model: image, folder (resumed) and video,
with the legend naming clusters or, with a mapping, classes."""

import glob
import os
import shutil

import cv2
import numpy as np
import pytest
from demo_model import train_demo_model
from helpers import run_tool
from mmseg.apis import inference_model

from mmuss.apis import init_uss_model, mapping_json_path
from mmuss.visualization import legend_entries, render_inference_panel


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp('demo')
    config, checkpoint, images = train_demo_model(folder)
    mapped = str(folder / 'mapped.pth')
    shutil.copy(checkpoint, mapped)
    run_tool(
        'test.py',
        config,
        mapped,
        '--work-dir',
        folder / 'test',
        '--save-mapping',
    )
    return dict(
        config=config,
        checkpoint=checkpoint,
        mapped=mapped,
        images=images,
        image=sorted(glob.glob(str(images / '*.png')))[0],
    )


def expected_picture(
    config, checkpoint, image_path, probes=False, options=None
):
    """The picture built here from mmseg's inference_model."""
    model = init_uss_model(config, checkpoint, cfg_options=options)
    image = cv2.imread(image_path)
    result = inference_model(model, image)
    meta = model.dataset_meta
    panels = [
        (
            'cluster probe',
            result.pred_sem_seg.data[0].numpy(),
            meta['classes'],
            meta['palette'],
        )
    ]
    if probes:
        panels.append(
            (
                'linear probe',
                result.pred_linear_sem_seg.data[0].numpy(),
                model.class_meta['classes'],
                model.class_meta['palette'],
            )
        )
    return render_inference_panel(image[..., ::-1], panels), panels


def read_rgb(path):
    return cv2.imread(str(path))[..., ::-1]


@pytest.mark.parametrize('mapped', [False, True])
def test_image_picture_and_legend_names(demo, mapped, tmp_path):
    checkpoint = demo['mapped'] if mapped else demo['checkpoint']
    out = tmp_path / 'out.png'
    run_tool('demo.py', demo['config'], checkpoint, demo['image'], out)
    expected, panels = expected_picture(
        demo['config'], checkpoint, demo['image']
    )
    assert np.array_equal(read_rgb(out), expected)
    names = [name for name, _ in legend_entries(*panels[0][1:])]
    assert names
    if mapped:
        assert not any(name.startswith('cluster') for name in names)
        assert set(names) <= set(panels[0][2]) | {'unmatched'}
    else:
        assert all(name.startswith('cluster ') for name in names)


def test_probes_side_by_side(demo, tmp_path):
    out = tmp_path / 'probes.png'
    run_tool(
        'demo.py',
        demo['config'],
        demo['mapped'],
        demo['image'],
        out,
        '--probes',
    )
    expected, _ = expected_picture(
        demo['config'], demo['mapped'], demo['image'], probes=True
    )
    assert np.array_equal(read_rgb(out), expected)


def test_crf_option_refines_the_prediction(demo, tmp_path):
    out = tmp_path / 'crf.png'
    run_tool(
        'demo.py', demo['config'], demo['mapped'], demo['image'], out, '--crf'
    )
    expected, _ = expected_picture(
        demo['config'],
        demo['mapped'],
        demo['image'],
        options={'model.test_cfg.use_crf': True},
    )
    assert np.array_equal(read_rgb(out), expected)


def test_mapping_option_applies_a_json(demo, tmp_path):
    out = tmp_path / 'out.png'
    run_tool(
        'demo.py',
        demo['config'],
        demo['checkpoint'],
        demo['image'],
        out,
        '--mapping',
        mapping_json_path(demo['mapped']),
    )
    expected, _ = expected_picture(
        demo['config'], demo['mapped'], demo['image']
    )
    assert np.array_equal(read_rgb(out), expected)


def test_folder_with_progress_and_resume(demo, tmp_path):
    source = tmp_path / 'in'
    shutil.copytree(demo['images'], source / 'sub')
    out = tmp_path / 'out'
    result = run_tool(
        'demo.py', demo['config'], demo['checkpoint'], source, out
    )
    names = sorted(os.listdir(source / 'sub'))
    assert sorted(os.listdir(out / 'sub')) == names
    assert '4/4' in result.stdout  # mmengine's progress bar
    first = out / 'sub' / names[0]
    expected, _ = expected_picture(
        demo['config'], demo['checkpoint'], str(source / 'sub' / names[0])
    )
    assert np.array_equal(read_rgb(first), expected)
    # resume: complete pictures are kept, a damaged one is rebuilt
    kept = out / 'sub' / names[1]
    stamp = kept.stat().st_mtime_ns
    first.write_bytes(b'broken')
    run_tool('demo.py', demo['config'], demo['checkpoint'], source, out)
    assert kept.stat().st_mtime_ns == stamp
    assert np.array_equal(read_rgb(first), expected)


def test_video_frames_become_pictures(demo, tmp_path):
    frame = cv2.imread(demo['image'])
    video = str(tmp_path / 'in.avi')
    writer = cv2.VideoWriter(
        video, cv2.VideoWriter_fourcc(*'MJPG'), 5, frame.shape[1::-1]
    )
    for _ in range(3):
        writer.write(frame)
    writer.release()
    out = tmp_path / 'out.avi'
    run_tool('demo.py', demo['config'], demo['checkpoint'], video, out)
    capture = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, picture = capture.read()
        if not ok:
            break
        frames.append(picture)
    assert len(frames) == 3
    expected, _ = expected_picture(
        demo['config'], demo['checkpoint'], demo['image']
    )
    height, width = expected.shape[:2]
    # padded to even sizes; the picture inside (JPEG-compressed) matches
    assert frames[0].shape == (height + height % 2, width + width % 2, 3)
    inside = frames[0][:height, :width, ::-1].astype(int)
    assert np.abs(inside - expected).mean() < 8
    assert not [p for p in os.listdir(tmp_path) if '.tmp' in p]


def test_bad_inputs_are_named(demo, tmp_path):
    missing = run_tool(
        'demo.py',
        demo['config'],
        demo['checkpoint'],
        tmp_path / 'nope.png',
        tmp_path / 'o.png',
        check=False,
    )
    assert missing.returncode != 0 and 'nope.png' in missing.stderr
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not an image')
    result = run_tool(
        'demo.py',
        demo['config'],
        demo['checkpoint'],
        broken,
        tmp_path / 'o.png',
        check=False,
    )
    assert 'cannot read image' in result.stderr
    assert 'broken.png' in result.stderr
