"""MusiCNN run as a separate program inside the listener's own venv (installers/listener.sh).

This file is executed by `.venv-listener/bin/python listener_worker.py`, never imported by
Robin Studio: TensorFlow stays out of the project's process and its venv. It reads one JSON
request on stdin and writes one JSON answer on stdout (everything the libraries print goes to
stderr):

    request  {"files": ["a.wav", ...], "model": "MTT_musicnn", "windows": true}
    answer   {"labels": [50 tag names], "model": ..., "results": [
                 {"path": ..., "tags": [p per label, mean over 3 s patches],
                  "embedding": [200 floats, mean of the penultimate layer over patches],
                  "windows": [[200 floats] per patch] (when asked), "patches": n,
                  "error": null or "what went wrong"}]}

Why not `musicnn.extractor.extractor`: its `batch_data` casts the mel spectrogram to float16
before `log10(10000 * x + 1)`; 10000 * x passes float16's largest value (65504) as soon as a
mel band's power exceeds 6.55, which mastered music does, and every tag comes out NaN. The
features below are the same computation (librosa mel at 16 kHz, 512-point FFT, hop 256, 96
bands, non-overlapping 3 s patches) in float32, fed to the same graph and weights.
"""

import json
import os
import sys


def _features(path, config):
    import librosa
    import numpy as np

    audio, sr = librosa.load(path, sr=config.SR, mono=True)
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP,
                                         n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
    return np.log10(10000.0 * mel.astype(np.float32) + 1.0)


def _patches(rep, n_frames):
    import numpy as np

    if rep.shape[0] < n_frames:   # shorter than one patch: pad with silence (log10(1) = 0)
        rep = np.concatenate([rep, np.zeros((n_frames - rep.shape[0], rep.shape[1]), rep.dtype)])
    starts = range(0, rep.shape[0] - n_frames + 1, n_frames)
    return np.stack([rep[s:s + n_frames] for s in starts])


def main():
    real_stdout = sys.stdout
    sys.stdout = sys.stderr   # keep library chatter off the JSON channel
    request = json.loads(sys.stdin.read() or "{}")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import librosa
    import numpy as np
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    import musicnn
    from musicnn import configuration as config
    from musicnn import models

    model = request.get("model", "MTT_musicnn")
    labels = list(config.MTT_LABELS if "MTT" in model else config.MSD_LABELS)
    n_frames = int(librosa.time_to_frames(3, sr=config.SR, n_fft=config.FFT_SIZE,
                                          hop_length=config.FFT_HOP)) + 1
    threads = int(request.get("threads", 1))
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        out = models.define_model(x, is_training, model, len(labels))
        y, penultimate = out[0], out[-1]
        probs = tf.nn.sigmoid(y)
    session_config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads,
                                              inter_op_parallelism_threads=threads)
    sess = tf.compat.v1.Session(config=session_config)
    sess.run(tf.compat.v1.global_variables_initializer())
    tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(musicnn.__file__), model) + "/")

    results = []
    for path in request.get("files", []):
        try:
            batch = _patches(_features(path, config), n_frames)
            tags, emb = [], []
            for i in range(0, len(batch), config.BATCH_SIZE):
                p, e = sess.run([probs, penultimate], feed_dict={x: batch[i:i + config.BATCH_SIZE],
                                                                 is_training: False})
                tags.append(p)
                emb.append(e)
            tags, emb = np.concatenate(tags), np.concatenate(emb)
            if not np.all(np.isfinite(tags)):
                raise ValueError("the model gave non-finite tag probabilities")
            row = {"path": path, "tags": tags.mean(0).tolist(), "embedding": emb.mean(0).tolist(),
                   "patches": int(len(batch)), "error": None}
            if request.get("windows"):
                row["windows"] = emb.tolist()
            results.append(row)
        except Exception as err:   # one unreadable file must not lose the others' answers
            results.append({"path": path, "error": f"{type(err).__name__}: {err}"})
    sess.close()
    real_stdout.write(json.dumps({"labels": labels, "model": model, "results": results}))
    real_stdout.flush()


if __name__ == "__main__":
    main()
