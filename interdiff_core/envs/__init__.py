"""The simulator layer: MuJoCo PointMaze through gymnasium-robotics.

Only this package imports gymnasium / gymnasium_robotics / mujoco, lazily inside functions.
`pointmaze` owns the factory, the coordinate frames and the exact reset; `tracker` the one PD
idea (data expert and plan follower); `episodes` the loop that returns records.
"""
