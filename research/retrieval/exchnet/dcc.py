"""The database-code step of ExchNet / ADSH (Sec. 3.4 step 2): discrete cyclic coordinate descent in numpy.

With the network fixed, the codes V in {-1, +1}^{N x q} of the N database items minimise
    J(V) = ||U V^T - q S||^2 + gamma ||V_Omega - U||^2
where U (m x q) = tanh(h) of the sampled items Omega (indices into the database) and S (m x N) their
similarity to every database item. Written as ||V U^T||^2 + tr(V^T Q) + const with
Q = -2 q S^T U - 2 gamma U_bar (U_bar: U placed in the rows Omega of an N x q zero matrix), bit k has the
closed form (the rest fixed; ||V_k||^2 = N is constant)
    V_k = -sign(2 V_rest U_rest^T U_k + Q_k).
Each bit update minimises J exactly in that column, so a sweep never increases J (spec check 5).
Ties (argument 0) keep the current bit.
"""

from __future__ import annotations

import numpy as np


def similarity_matrix(labels_a, labels_b) -> np.ndarray:
    """S (n, m) in {-1, +1}: +1 where class labels agree."""
    return np.where(np.asarray(labels_a)[:, None] == np.asarray(labels_b)[None, :], 1.0, -1.0)


def objective(codes: np.ndarray, u: np.ndarray, sim: np.ndarray, omega: np.ndarray, gamma: float) -> float:
    """||U V^T - q S||^2 + gamma ||V_Omega - U||^2."""
    q = u.shape[1]
    return float(np.sum((u @ codes.T - q * sim) ** 2) + gamma * np.sum((codes[omega] - u) ** 2))


def dcc_update(codes: np.ndarray, u: np.ndarray, sim: np.ndarray, omega: np.ndarray, gamma: float,
               sweeps: int = 1) -> np.ndarray:
    """New database codes (N, q) after `sweeps` passes over the q bits; inputs are not modified.

    codes: V (N, q) in {-1, +1}; u: U (m, q) of the items `omega` (m,) ; sim: S (m, N).
    """
    v = np.array(codes, np.float64)
    u = np.asarray(u, np.float64)
    sim = np.asarray(sim, np.float64)
    n, q = v.shape
    if u.shape[0] != len(omega) or sim.shape != (len(omega), n):
        raise ValueError(f"dcc_update: U {u.shape}, omega {len(omega)}, S {sim.shape} do not fit V {v.shape}")
    u_bar = np.zeros((n, q))
    u_bar[np.asarray(omega)] = u
    big_q = -2.0 * q * sim.T @ u - 2.0 * gamma * u_bar  # (N, q)
    for _ in range(sweeps):
        for k in range(q):
            rest = np.arange(q) != k
            arg = 2.0 * v[:, rest] @ (u[:, rest].T @ u[:, k]) + big_q[:, k]
            v[:, k] = np.where(arg == 0, v[:, k], -np.sign(arg))
    return v.astype(np.float32)
