"""What a run will cost before it is paid: tokens by each vendor's rules, and the price range they mean."""
