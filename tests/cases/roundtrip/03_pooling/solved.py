# points: 25
# solved: answers avg_pool2d global_avg_pool2d max_pool2d pool_geometry
