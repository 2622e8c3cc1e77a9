from ldn_graph.cli import main

main()
