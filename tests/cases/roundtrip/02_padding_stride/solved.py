# points: 20
# solved: conv2d conv_output_size pad2d receptive_field
