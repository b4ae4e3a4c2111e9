from fewshot_studio.cli import main

raise SystemExit(main())
